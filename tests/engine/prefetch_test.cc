// The engine's reading ahead changes no result: a partition task that applies a batch
// of records (reading the inputs ahead, Engine::Prefetch) emits and keeps what one that
// gets the same records one per batch (nothing ahead to hint) does.
#include <gtest/gtest.h>

#include <random>

#include "engine/harness.h"
#include "engine/prefetch.h"

namespace leadscore::testing {
namespace {

// Profiles, events of known and unknown types on leads with and without a profile,
// and a Forget midway: inputs the hints skip or find nothing for, beside the events.
std::vector<std::string> Records() {
  std::vector<std::string> out;
  for (int a = 0; a < 5; ++a) {
    out.push_back(R"({"account":{"account_id":"a)" + std::to_string(a) + R"(","updated_at_ms":"1","industry":")" +
                  (a % 2 ? "software" : "retail") + "\"}}");
  }
  for (int l = 0; l < 20; ++l) {  // leads 20..29 have events only
    out.push_back(R"({"lead":{"lead_id":"l)" + std::to_string(l) + R"(","account_id":"a)" + std::to_string(l % 5) +
                  R"(","updated_at_ms":"1","seniority":"vp"}})");
  }
  std::mt19937_64 rng(11);
  const char* types[] = {"view", "view", "demo", "unsub", "no_such_signal"};
  for (int i = 0; i < 600; ++i) {
    const int lead = static_cast<int>(rng() % 30);
    if (i == 300) out.push_back(R"({"forget":{"lead_id":"l3","account_id":"a3"}})");
    out.push_back(EventJson("e" + std::to_string(i), "l" + std::to_string(lead), "a" + std::to_string(lead % 5),
                            types[rng() % 5], kT0 + i * kMin));
  }
  return out;
}

std::vector<engine::RoutingEvent> ApplyInBatches(stream::PartitionTask& task, const std::vector<std::string>& records,
                                                 size_t per_batch) {
  std::vector<engine::RoutingEvent> events;
  for (size_t at = 0; at < records.size(); at += per_batch) {
    std::vector<stream::InputRecord> batch;
    for (size_t i = at; i < std::min(records.size(), at + per_batch); ++i) {
      batch.push_back({"test", codec::Format::kJson, static_cast<int64_t>(i), std::nullopt, records[i]});
    }
    stream::BatchOutcome outcome;
    EXPECT_TRUE(task.Process(batch, std::nullopt, &outcome).ok());
    EXPECT_TRUE(outcome.refused.empty());
    events.insert(events.end(), outcome.events.begin(), outcome.events.end());
  }
  stream::BatchOutcome outcome;
  task.AdvanceTo(kT0 + 30 * kDay, &outcome);
  events.insert(events.end(), outcome.events.begin(), outcome.events.end());
  return events;
}

TEST(PrefetchTest, ABatchWithHintsAheadEndsAsRecordsOneAtATimeDo) {
  stream::TaskOptions options;
  options.require_key = false;
  const auto model = MustLoad(kTestModel);
  stream::PartitionTask hinted(0, model, options, nullptr), alone(0, model, options, nullptr);
  const auto records = Records();
  const auto with_hints = ApplyInBatches(hinted, records, records.size());
  const auto without = ApplyInBatches(alone, records, 1);
  ASSERT_FALSE(without.empty());
  ASSERT_EQ(with_hints.size(), without.size());
  for (size_t i = 0; i < without.size(); ++i) {
    EXPECT_EQ(with_hints[i].routing_id, without[i].routing_id) << i;
    EXPECT_EQ(with_hints[i].to_tier, without[i].to_tier) << i;
    EXPECT_EQ(with_hints[i].score, without[i].score) << i;
  }
  for (int l = 0; l < 30; ++l) {
    const std::string id = "l" + std::to_string(l);
    const auto a = hinted.ViewLead(id), b = alone.ViewLead(id);
    ASSERT_EQ(a.has_value(), b.has_value()) << id;
    if (a) EXPECT_EQ(a->score, b->score) << id;
  }
}

// Reading ahead reads a byte of every cache line the range reaches into, the last one
// included where a stride of 64 from an unaligned start would skip it.
TEST(PrefetchTest, LoadLinesReadsEveryLineTheRangeReachesInto) {
  alignas(64) unsigned char lines[5 * 64] = {};
  for (size_t i = 0; i < sizeof lines; ++i) lines[i] = static_cast<unsigned char>(1 + i / 64);  // a line's number
  // [10, 210): lines 0..3; a stride of 64 from 10 reads 10, 74, 138, 202 (lines 0..3 as well).
  EXPECT_EQ(engine::LoadLines(lines + 10, 200), 1u + 2 + 3 + 4);
  // [60, 200): lines 0..3, but a stride from 60 reads 60, 124, 188 (lines 0, 1, 2): line 3 too.
  EXPECT_EQ(engine::LoadLines(lines + 60, 140), 1u + 2 + 3 + 4);
  EXPECT_EQ(engine::LoadLines(lines + 64, 64), 2u);  // one whole line
  EXPECT_EQ(engine::LoadLines(lines + 5, 0), 0u);
}

}  // namespace
}  // namespace leadscore::testing
