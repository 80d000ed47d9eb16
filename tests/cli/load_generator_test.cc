// `leadscore generate` without Kafka: the pacer holds the rate against a schedule, and
// every event is stamped with the wall clock as it was when the event was made. Both
// clocks are fakes the tests move by hand.
#include "cli/load_generator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cli/pacer.h"
#include "leadscore/v1/leadscore.pb.h"

namespace leadscore::cli {
namespace {

constexpr int64_t kSecondUs = 1000000;

TEST(PacerTest, SendsOnScheduleAndMakesUpLatenessInABurst) {
  Pacer p(2000, 5 * kSecondUs);
  EXPECT_EQ(p.Due(5 * kSecondUs - 1), 0) << "nothing before the start";
  EXPECT_EQ(p.Due(5 * kSecondUs), 1) << "the first event is due at the start";
  p.Sent(1);
  EXPECT_EQ(p.Due(5 * kSecondUs), 0);
  EXPECT_EQ(p.WaitUs(5 * kSecondUs), 500) << "2000/s: one every 500 us";
  EXPECT_EQ(p.Due(5 * kSecondUs + 499), 0);
  EXPECT_EQ(p.Due(5 * kSecondUs + 500), 1);
  // A stall of 12 s: all that is due comes at once, and the schedule, not the stall,
  // sets what follows.
  const int64_t late = 17 * kSecondUs;
  EXPECT_EQ(p.Due(late), 24000);
  p.Sent(24000);
  EXPECT_EQ(p.Due(late), 0);
  EXPECT_EQ(p.WaitUs(late), 500);
  EXPECT_EQ(p.sent(), 24001);
}

TEST(PacerTest, HoldsAFractionalRate) {
  Pacer p(0.5, 0);
  EXPECT_EQ(p.Due(0), 1);
  p.Sent(1);
  EXPECT_EQ(p.Due(kSecondUs), 0);
  EXPECT_EQ(p.WaitUs(kSecondUs), kSecondUs);
  EXPECT_EQ(p.Due(2 * kSecondUs), 1);
}

struct FakeClocks {
  int64_t steady_us = 1000;
  int64_t wall_ms = 1767225600000;  // 2026-01-01
  LoadClocks Get() {
    return {[this] { return steady_us; }, [this] { return wall_ms; }};
  }
  void Advance(int64_t ms) {
    steady_us += ms * 1000;
    wall_ms += ms;
  }
};

int64_t OccurredAt(const sim::MarketRecord& r) {
  v1::Input in;
  EXPECT_TRUE(in.ParseFromString(r.value));
  EXPECT_TRUE(in.has_event());
  return in.event().occurred_at_ms();
}

TEST(LoadGeneratorTest, HoldsTheRateAndStampsEventsWithTheWallClockNow) {
  sim::Market market({.accounts = 200, .seed = 3, .noise_events_per_day = 24});
  FakeClocks clock;
  market.PlaceBuyers(clock.wall_ms, 7 * 24 * 3600 * 1000LL);
  LoadGenerator load(&market, 2000, 0, clock.Get());
  int64_t total = 0;
  // 12 s in steps of 1 ms, as a loop that keeps up would see them.
  for (int step = 0; step < 12000; ++step) {
    for (const auto& r : load.Next()) {
      ++total;
      ASSERT_EQ(r.at_ms, clock.wall_ms);
      ASSERT_EQ(OccurredAt(r), clock.wall_ms) << "an event stamped other than the wall clock at step " << step;
    }
    clock.Advance(1);
  }
  // The schedule: one at the start, then one every 500 us; the last step is at 11.999 s.
  EXPECT_EQ(total, 1 + 23998);
  EXPECT_EQ(load.sent(), total);
}

TEST(LoadGeneratorTest, CatchesUpInBurstsStampedNowAfterAStall) {
  sim::Market market({.accounts = 50, .seed = 4, .noise_events_per_day = 24});
  FakeClocks clock;
  LoadGenerator load(&market, 1000, 0, clock.Get());
  EXPECT_EQ(load.Next().size(), 1u);
  EXPECT_TRUE(load.Next().empty()) << "ahead of the schedule";
  EXPECT_EQ(load.WaitUs(), 1000);
  clock.Advance(25000);  // the producer was stuck for 25 s
  int64_t caught_up = 0;
  for (auto burst = load.Next(); !burst.empty(); burst = load.Next()) {
    EXPECT_LE(static_cast<int64_t>(burst.size()), LoadGenerator::kMaxBurst);
    for (const auto& r : burst) EXPECT_EQ(OccurredAt(r), clock.wall_ms) << "not back-dated, not ahead";
    caught_up += static_cast<int64_t>(burst.size());
  }
  EXPECT_EQ(caught_up, 25000);
}

TEST(LoadGeneratorTest, StopsAtItsLimit) {
  sim::Market market({.accounts = 50, .seed = 5});
  FakeClocks clock;
  LoadGenerator load(&market, 100, 250, clock.Get());
  clock.Advance(60000);
  int64_t total = 0;
  for (auto burst = load.Next(); !burst.empty(); burst = load.Next()) total += static_cast<int64_t>(burst.size());
  EXPECT_EQ(total, 250);
  EXPECT_TRUE(load.done());
}

}  // namespace
}  // namespace leadscore::cli
