// A lead that changes partition (README "A lead that changes partition"): two partition
// tasks hand the lead over through the records of the repartition topic (real codec,
// real outbox), and the result is the one partition that held both accounts would give.
// The records a task sends are delivered to their partition as soon as it commits, as
// the service's loop does when nothing else is in flight.
#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "../engine/harness.h"
#include "stream/partition_task.h"

namespace leadscore::testing {
namespace {

constexpr const char* kRepartition = "test-repartition";

stream::TaskOptions Options(int32_t partitions) {
  stream::TaskOptions o;
  o.require_key = false;
  if (partitions > 1) {
    o.handoff_topic = kRepartition;
    o.partitions = partitions;
  }
  return o;
}

// N partition tasks without a store; each record goes to the partition the test names.
class Partitions {
 public:
  explicit Partitions(int32_t n, const std::string& model = kTestModel) : model_(MustLoad(model)) {
    for (int32_t p = 0; p < n; ++p) tasks_.push_back(std::make_unique<stream::PartitionTask>(p, model_, Options(n), nullptr));
  }

  // One input record to partition `p`, committed; then every handoff it causes, delivered
  // (unless `deliver` is false: they wait for the next delivery, in order).
  void Json(int32_t p, const std::string& json, bool deliver = true) {
    Run(p, {"in", codec::Format::kJson, -1, std::nullopt, json});
    if (deliver) Deliver();
  }

  // Every partition moves on to `t` (their stream times differ: each has its own records).
  void AdvanceAll(int64_t t) {
    for (auto& task : tasks_) {
      stream::BatchOutcome out;
      task->AdvanceTo(t, &out);
      ASSERT_TRUE(task->Commit({}, out.events).ok());
      events_.insert(events_.end(), out.events.begin(), out.events.end());
    }
  }

  std::vector<engine::RoutingEvent>& events() { return events_; }
  stream::PartitionTask& task(int32_t p) { return *tasks_[p]; }
  size_t handoffs() const { return handoffs_; }
  size_t duplicates() const { return duplicates_; }
  // Every outbox record a partition committed so far that is a handoff, sent again (as
  // after a crash before its delivery was known).
  void Redeliver(int32_t p) {
    for (const auto& [to, value] : sent_[p]) pending_.push_back({to, value});
    Deliver();
  }

  void Deliver() {
    // Each record delivered may cause more (a claim, its transfer): they queue behind.
    while (!pending_.empty()) {
      auto [to, value] = pending_.front();
      pending_.pop_front();
      ++handoffs_;
      Run(to, {kRepartition, codec::Format::kProtobuf, -1, std::nullopt, value});
    }
  }

 private:
  void Run(int32_t p, const stream::InputRecord& record) {
    stream::BatchOutcome out;
    ASSERT_TRUE(tasks_[p]->Process({&record, 1}, std::nullopt, &out).ok());
    ASSERT_TRUE(out.refused.empty()) << out.refused[0].error;
    duplicates_ += out.count(engine::ApplyOutcome::kDuplicate) + out.handoff_duplicates;
    ASSERT_TRUE(tasks_[p]->Commit({}, out.events).ok());
    events_.insert(events_.end(), out.events.begin(), out.events.end());
    stream::Outbox& outbox = tasks_[p]->outbox();
    for (const auto& r : outbox.Unproduced()) {
      if (r.handoff_partition() < 0) continue;
      pending_.push_back({r.handoff_partition(), r.value});
      sent_[p].push_back({r.handoff_partition(), r.value});
    }
    outbox.MarkProduced();
  }
  std::shared_ptr<const model::Model> model_;
  std::vector<std::unique_ptr<stream::PartitionTask>> tasks_;
  std::deque<std::pair<int32_t, std::string>> pending_;
  std::map<int32_t, std::vector<std::pair<int32_t, std::string>>> sent_;
  std::vector<engine::RoutingEvent> events_;
  size_t handoffs_ = 0, duplicates_ = 0;
};

std::string Event(const std::string& id, const std::string& lead, const std::string& account, const std::string& type,
                  int64_t at) {
  return EventJson(id, lead, account, type, at);
}
std::string Lead(const std::string& lead, const std::string& account, const std::string& fields, int64_t at) {
  return R"({"lead":{"lead_id":")" + lead + R"(","account_id":")" + account + R"(","updated_at_ms":")" +
         std::to_string(at) + "\"," + fields + "}}";
}
std::string Account(const std::string& account, const std::string& fields, int64_t at) {
  return R"({"account":{"account_id":")" + account + R"(","updated_at_ms":")" + std::to_string(at) + "\"," + fields +
         "}}";
}
std::string Forget(const std::string& lead, const std::string& account) {
  return R"({"forget":{"lead_id":")" + lead + R"(","account_id":")" + account + R"("}})";
}

// Account "a" lives on partition 0 and "b" on partition 1; "one" is the single partition
// that holds both. The story: lead L engages under a, its profile moves it to b, it
// goes on engaging there (one old event delivered again).
struct Story {
  std::vector<std::pair<int32_t, std::string>> records = {
      {0, Account("a", R"("industry":"software")", kT0)},
      {1, Account("b", R"("industry":"software")", kT0)},
      {0, Lead("L", "a", R"("seniority":"vp","role":"buyer")", kT0)},
      {0, Lead("M", "a", R"("role":"user")", kT0)},
      {0, Event("e1", "L", "a", "demo", kT0 + kHour)},
      {0, Event("e2", "L", "a", "view", kT0 + 2 * kHour)},
      {0, Event("e3", "M", "a", "view", kT0 + 2 * kHour)},
      {1, Event("e4", "N", "b", "view", kT0 + 3 * kHour)},
      {1, Lead("L", "b", R"("seniority":"vp","role":"buyer")", kT0 + 5 * kHour)},  // the move
      {1, Event("e5", "L", "b", "demo", kT0 + 6 * kHour)},
      {1, Event("e2", "L", "b", "view", kT0 + 2 * kHour)},  // e2 again: a duplicate
      {0, Event("e6", "M", "a", "view", kT0 + 7 * kHour)},
  };
};

void ExpectSameView(const engine::EntityView& want, const engine::EntityView& got, const std::string& what) {
  EXPECT_NEAR(want.fit, got.fit, 1e-9) << what;
  EXPECT_NEAR(want.intent, got.intent, 1e-9) << what;
  EXPECT_NEAR(want.score, got.score, 1e-9) << what;
  EXPECT_EQ(want.tier, got.tier) << what;
  EXPECT_EQ(want.account_id, got.account_id) << what;
  ASSERT_EQ(want.factors.size(), got.factors.size()) << what;
  for (size_t i = 0; i < want.factors.size(); ++i) {
    EXPECT_EQ(want.factors[i].name, got.factors[i].name) << what;
    EXPECT_NEAR(want.factors[i].points, got.factors[i].points, 1e-9) << what;
    EXPECT_EQ(want.factors[i].count, got.factors[i].count) << what;
  }
}

TEST(LeadHandoff, MovingToAnAccountOnAnotherPartitionGivesWhatOnePartitionGives) {
  Partitions one(1), two(2);
  for (const auto& [p, json] : Story().records) {
    one.Json(0, json);
    two.Json(p, json);
  }
  one.AdvanceAll(kT0 + 8 * kHour);
  two.AdvanceAll(kT0 + 8 * kHour);
  // The lead lives on partition 1 only, with all its history; a no longer counts it.
  EXPECT_FALSE(two.task(0).ViewLead("L").has_value()) << "the old partition still holds the lead";
  ASSERT_TRUE(two.task(1).ViewLead("L").has_value());
  ExpectSameView(*one.task(0).ViewLead("L"), *two.task(1).ViewLead("L"), "lead L");
  ExpectSameView(*one.task(0).ViewAccount("a"), *two.task(0).ViewAccount("a"), "account a");
  ExpectSameView(*one.task(0).ViewAccount("b"), *two.task(1).ViewAccount("b"), "account b");
  ExpectSameView(*one.task(0).ViewLead("M"), *two.task(0).ViewLead("M"), "lead M");
  EXPECT_EQ(two.duplicates(), 1u) << "e2, scored on partition 0 before the move, counts once";
  // The same routing events, ids and all, but for the moving lead's: the new partition
  // routes it from what it knows before the history arrives (a lead new to it), then the
  // merge routes it to where the whole history puts it, at the same stream time.
  auto line = [](const engine::RoutingEvent& ev) {
    return (ev.lead_id.empty() ? ev.account_id : ev.lead_id) + " " + ev.from_tier + ">" + ev.to_tier + " @" +
           std::to_string((ev.occurred_at_ms - kT0) / kMin) + "m " + ev.routing_id;
  };
  std::vector<std::string> want, got, extra;
  for (const auto& ev : one.events()) want.push_back(line(ev));
  for (const auto& ev : two.events()) {
    if (ev.lead_id == "L" && ev.occurred_at_ms == kT0 + 5 * kHour) extra.push_back(ev.from_tier + ">" + ev.to_tier);
    else got.push_back(line(ev));
  }
  std::sort(want.begin(), want.end());
  std::sort(got.begin(), got.end());
  EXPECT_EQ(want.size(), 6u);
  EXPECT_EQ(want, got);
  EXPECT_EQ(extra, (std::vector<std::string>{"cold>warm", "warm>hot"})) << "at the move: its profile alone, then all of it";
  EXPECT_EQ(two.task(1).ViewLead("L")->tier, "hot");
}

// An outcome scored as a signal (feedback.signals) goes with the lead: its sum counts on
// the new partition, in the lead and in its new account, and leaves the old account.
TEST(LeadHandoff, AnOutcomeScoredAsASignalMovesWithTheLead) {
  const std::string model = std::string(kTestModel) + "feedback:\n  signals: { REJECTED: { points: -20, half_life: 5d } }\n";
  const std::string rejected = R"({"outcome":{"routing_id":"r1","lead_id":"L","account_id":"a","kind":"REJECTED",)"
                               R"("occurred_at_ms":")" + std::to_string(kT0 + 3 * kHour) + "\"}}";
  Partitions one(1, model), two(2, model);
  const std::vector<std::pair<int32_t, std::string>> records = {
      {0, Account("a", R"("industry":"software")", kT0)},
      {1, Account("b", R"("industry":"software")", kT0)},
      {0, Lead("L", "a", R"("seniority":"vp","role":"buyer")", kT0)},
      {0, Event("e1", "L", "a", "demo", kT0 + kHour)},
      {0, Event("e2", "L", "a", "view", kT0 + 2 * kHour)},
      {0, rejected},
      {1, Lead("L", "b", R"("seniority":"vp","role":"buyer")", kT0 + 5 * kHour)},  // the move
  };
  for (const auto& [p, json] : records) {
    one.Json(0, json);
    two.Json(p, json);
  }
  one.AdvanceAll(kT0 + 8 * kHour);
  two.AdvanceAll(kT0 + 8 * kHour);
  ASSERT_TRUE(two.task(1).ViewLead("L").has_value());
  auto rejected_points = [](const engine::EntityView& v) {
    for (const auto& f : v.factors) {
      if (f.name == "REJECTED") return f.points;
    }
    return 0.0;
  };
  EXPECT_LT(rejected_points(*one.task(0).ViewLead("L")), 0) << "the outcome is scored";
  ExpectSameView(*one.task(0).ViewLead("L"), *two.task(1).ViewLead("L"), "lead L");
  ExpectSameView(*one.task(0).ViewAccount("b"), *two.task(1).ViewAccount("b"), "account b");
  ExpectSameView(*one.task(0).ViewAccount("a"), *two.task(0).ViewAccount("a"), "account a");
  EXPECT_LT(rejected_points(*two.task(1).ViewAccount("b")), 0) << "the new account counts its lead's outcome";
  EXPECT_EQ(rejected_points(*two.task(0).ViewAccount("a")), 0) << "the old account no longer counts it";
}

TEST(LeadHandoff, AHandoffSentAgainIsAppliedOnce) {
  Partitions two(2);
  for (const auto& [p, json] : Story().records) two.Json(p, json);
  const engine::EntityView before = *two.task(1).ViewLead("L");
  const size_t duplicates = two.duplicates();
  two.Redeliver(0);  // partition 0's claims and the transfer, again
  two.Redeliver(1);
  EXPECT_GT(two.duplicates(), duplicates);
  ExpectSameView(before, *two.task(1).ViewLead("L"), "lead L after the copies");
  EXPECT_FALSE(two.task(0).ViewLead("L").has_value());
}

TEST(LeadHandoff, AForgetKeyedByEitherAccountErasesTheLeadOnEveryPartition) {
  for (const std::string by : {"a", "b"}) {
    Partitions two(2);
    for (const auto& [p, json] : Story().records) two.Json(p, json);
    two.Json(by == "a" ? 0 : 1, Forget("L", by));
    EXPECT_FALSE(two.task(0).ViewLead("L").has_value()) << "forget keyed by " << by;
    EXPECT_FALSE(two.task(1).ViewLead("L").has_value()) << "forget keyed by " << by;
    // b no longer counts it.
    Partitions one(1);
    for (const auto& [p, json] : Story().records) one.Json(0, json);
    one.Json(0, Forget("L", "b"));
    one.AdvanceAll(kT0 + 8 * kHour);
    two.AdvanceAll(kT0 + 8 * kHour);
    ExpectSameView(*one.task(0).ViewAccount("b"), *two.task(1).ViewAccount("b"), "account b after the forget");
  }
}

TEST(LeadHandoff, AForgetBeforeTheTransferArrivesKeepsTheHistoryOut) {
  // The move and then a Forget keyed by the new account, both on partition 1 before any
  // handoff is delivered: the claim, then the relayed Forget reach partition 0; the
  // transfer the claim causes comes back to a lead already forgotten, and is dropped.
  Partitions two(2);
  const auto records = Story().records;
  for (size_t i = 0; i < 8; ++i) two.Json(records[i].first, records[i].second);
  ASSERT_TRUE(two.task(0).ViewLead("L").has_value());
  two.Json(1, records[8].second, /*deliver=*/false);  // the move: its claim waits
  two.Json(1, Forget("L", "b"), /*deliver=*/false);
  two.Deliver();
  EXPECT_FALSE(two.task(0).ViewLead("L").has_value());
  EXPECT_FALSE(two.task(1).ViewLead("L").has_value()) << "the history came back after the Forget";
  EXPECT_EQ(two.task(1).engine().stats().handoffs_dropped, 1u);
  EXPECT_EQ(two.task(0).ViewAccount("a")->lead_count, 1) << "M is left";
}

TEST(LeadHandoff, AForgetKeyedByTheNewAccountBeforeTheMoveErasesTheOldCopy) {
  Partitions two(2);
  const auto records = Story().records;
  for (size_t i = 0; i < 8; ++i) two.Json(records[i].first, records[i].second);
  two.Json(1, Forget("L", "b"));  // b never held L: relayed to partition 0, which erases it
  EXPECT_FALSE(two.task(0).ViewLead("L").has_value());
  EXPECT_FALSE(two.task(1).ViewLead("L").has_value());
}

TEST(LeadHandoff, ALeadNewEverywhereIsClaimedAndNothingMoves) {
  Partitions two(2);
  two.Json(0, Event("e1", "X", "a", "view", kT0));
  EXPECT_EQ(two.handoffs(), 1u) << "one claim, to the one other partition";
  EXPECT_TRUE(two.task(0).ViewLead("X").has_value());
  Partitions one(1);
  one.Json(0, Event("e1", "X", "a", "view", kT0));
  EXPECT_EQ(one.handoffs(), 0u) << "one partition: nobody to tell";
}

}  // namespace
}  // namespace leadscore::testing
