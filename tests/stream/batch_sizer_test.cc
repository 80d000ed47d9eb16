// The time budget per batch: how many records the next poll may take, from the cost
// per record measured so far (times are arguments here, never read).
#include "stream/batch_sizer.h"

#include <gtest/gtest.h>

namespace leadscore::stream {
namespace {

TEST(BatchSizerTest, WithoutABudgetOrAMeasurementEveryPollTakesTheMaximum) {
  BatchSizer off(0, 10000);
  off.Observe(1000, 5.0);  // very slow records: no budget, no bound
  EXPECT_EQ(off.Limit(), 10000u);
  BatchSizer fresh(20, 10000);
  EXPECT_EQ(fresh.Limit(), 10000u) << "nothing measured yet";
}

TEST(BatchSizerTest, TheLimitIsWhatTheBudgetScoresAtTheMeasuredCost) {
  BatchSizer s(20, 10000);
  s.Observe(1000, 0.1);  // 100 us per record: 20 ms hold 200
  EXPECT_EQ(s.Limit(), 200u);
  BatchSizer fast(20, 10000);
  fast.Observe(1000, 0.001);  // 1 us per record: 20 000 would fit, the maximum holds
  EXPECT_EQ(fast.Limit(), 10000u);
}

TEST(BatchSizerTest, AnExpensiveStretchShrinksTheNextBatchesAndOneCheapBatchDoesNotUndoIt) {
  BatchSizer s(20, 10000);
  s.Observe(1000, 0.01);  // 10 us: 2 000
  EXPECT_EQ(s.Limit(), 2000u);
  s.Observe(100, 0.01);  // 100 us: the mean moves a quarter of the way, to 32.5 us
  EXPECT_EQ(s.Limit(), 615u);
  s.Observe(1000, 0.001);  // 1 us: a quarter of the way back, to 24.6 us
  EXPECT_EQ(s.Limit(), 812u);
}

TEST(BatchSizerTest, NeverFewerThanTheFloorNorMoreThanTheMaximum) {
  BatchSizer s(1, 10000);
  s.Observe(10, 1.0);  // 100 ms per record against a 1 ms budget: the stream still moves
  EXPECT_EQ(s.Limit(), BatchSizer::kMinRecords);
  BatchSizer small(1, 10);
  small.Observe(10, 1.0);
  EXPECT_EQ(small.Limit(), 10u) << "the floor never passes max_records";
}

TEST(BatchSizerTest, EmptyPollsSayNothingOfTheCost) {
  BatchSizer s(20, 10000);
  s.Observe(1000, 0.1);
  s.Observe(0, 0.05);  // an idle poll's wait is not scoring
  EXPECT_EQ(s.Limit(), 200u);
}

}  // namespace
}  // namespace leadscore::stream
