// Routing snapshots over a real RocksDB store: every routing event is kept by routing_id
// with the commit that produced it, swept once older than stream time - retention, and
// sales outcomes are joined to it as they are applied (SPEC section 2): by routing_id,
// else the latest UP routing event of the lead (of the account when lead_id is empty) at
// or before the outcome, in the state or earlier in the same uncommitted batch; an
// outcome that answers none is kept and counted as unmatched.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "engine/harness.h"
#include "store/state_store.h"
#include "stream/partition_task.h"

namespace leadscore::testing {
namespace {

using ::testing::ElementsAre;

constexpr int32_t kPartition = 3;

std::string AccountJson(const std::string& account, int64_t at) {
  return R"({"account":{"account_id":")" + account + R"(","updated_at_ms":")" + std::to_string(at) +
         R"(","industry":"software"}})";
}
std::string LeadJson(const std::string& lead, const std::string& account, int64_t at, const std::string& extra = "") {
  return R"({"lead":{"lead_id":")" + lead + R"(","account_id":")" + account + R"(","updated_at_ms":")" +
         std::to_string(at) + R"(","seniority":"vp")" + extra + "}}";
}
std::string OutcomeJson(const std::string& routing_id, const std::string& lead, const std::string& account,
                        const std::string& kind, int64_t at, const std::string& reason = "") {
  return R"({"outcome":{"routing_id":")" + routing_id + R"(","lead_id":")" + lead + R"(","account_id":")" + account +
         R"(","kind":")" + kind + R"(","reason":")" + reason + R"(","occurred_at_ms":")" + std::to_string(at) +
         "\"}}";
}

class RoutingSnapshotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/leadscore-routing-test-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    model_ = MustLoad(kTestModel);
    Open();
  }
  void TearDown() override {
    task_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Open(int64_t retention_ms = store::StoreOptions{}.routing_retention_ms) {
    task_.reset();
    store_.reset();
    auto s = store::StateStore::Open({.dir = dir_, .routing_retention_ms = retention_ms});
    ASSERT_TRUE(s.ok()) << s.status().message();
    store_ = std::move(*s);
    task_ = std::make_unique<stream::PartitionTask>(kPartition, model_, stream::TaskOptions{}, store_.get());
    ASSERT_TRUE(task_->Resume().ok());
  }
  // One batch of JSON records (offsets continue), processed and, unless `commit` is
  // false, committed.
  stream::BatchOutcome Process(const std::vector<std::string>& jsons, bool commit = true) {
    std::vector<stream::InputRecord> records;
    for (const auto& j : jsons) records.push_back({"in", codec::Format::kJson, offset_++, "a1", j});
    stream::BatchOutcome out;
    EXPECT_TRUE(task_->Process(records, std::nullopt, &out).ok());
    EXPECT_THAT(out.refused, ::testing::IsEmpty());
    if (commit) EXPECT_TRUE(task_->Commit({{"in", offset_}}, out.events).ok());
    return out;
  }
  std::optional<codec::RoutingSnapshot> Snapshot(const std::string& id) {
    auto found = task_->ViewRouting(id);
    EXPECT_TRUE(found.ok());
    return found.ok() ? *found : std::nullopt;
  }
  // The UP routing events of `out` into `tier` (exactly one expected).
  static engine::RoutingEvent Up(const stream::BatchOutcome& out, const std::string& entity_id, const std::string& tier) {
    std::vector<engine::RoutingEvent> found;
    for (const auto& ev : out.events) {
      const std::string& id = ev.entity == engine::EntityKind::kLead ? ev.lead_id : ev.account_id;
      if (id == entity_id && ev.to_tier == tier && ev.direction == engine::Direction::kUp) found.push_back(ev);
    }
    EXPECT_EQ(found.size(), 1u) << entity_id << " up to " << tier;
    return found.empty() ? engine::RoutingEvent{} : found[0];
  }
  std::vector<codec::WireOutcome> Unmatched() {
    std::vector<codec::WireOutcome> out;
    EXPECT_TRUE(store_
                    ->ForEachUnmatched(kPartition,
                                       [&](std::string_view bytes) {
                                         auto o = codec::DecodeOutcome(bytes, codec::Format::kProtobuf);
                                         EXPECT_TRUE(o.ok() && o->has_value());
                                         out.push_back(**o);
                                         return Status::Ok();
                                       })
                    .ok());
    return out;
  }
  // A lead of account a1 that goes warm at kT0 (fit 80: score 40) and hot at kT0 + 1h
  // (a demo: intent 40, score 60).
  std::vector<std::string> WarmThenHot(const std::string& lead = "l1") {
    return {AccountJson("a1", kT0), LeadJson(lead, "a1", kT0), EventJson("e-" + lead, lead, "a1", "demo", kT0 + kHour)};
  }

  std::string dir_;
  std::shared_ptr<const model::Model> model_;
  std::unique_ptr<store::StateStore> store_;
  std::unique_ptr<stream::PartitionTask> task_;
  int64_t offset_ = 0;
};

TEST_F(RoutingSnapshotTest, ASnapshotIsWrittenWithItsCommitAndIsThereAfterAReopen) {
  const stream::BatchOutcome out = Process(WarmThenHot(), /*commit=*/false);
  const engine::RoutingEvent hot = Up(out, "l1", "hot");
  EXPECT_FALSE(Snapshot(hot.routing_id)) << "scored, not committed: not in the state yet";
  ASSERT_TRUE(task_->Commit({{"in", offset_}}, out.events).ok());
  auto kept = Snapshot(hot.routing_id);
  ASSERT_TRUE(kept);
  EXPECT_EQ(codec::ToJson(kept->event), codec::ToJson(hot)) << "the event as published";
  EXPECT_THAT(kept->outcomes, ::testing::IsEmpty());

  Open();
  kept = Snapshot(hot.routing_id);
  ASSERT_TRUE(kept) << "durable: there after the store is reopened";
  EXPECT_EQ(codec::ToJson(kept->event), codec::ToJson(hot));
  for (const auto& ev : out.events) EXPECT_TRUE(Snapshot(ev.routing_id)) << "every routing event is kept";
}

TEST_F(RoutingSnapshotTest, SnapshotsAndUnmatchedOutcomesOlderThanStreamTimeLessRetentionAreSwept) {
  Open(/*retention_ms=*/10 * kDay);
  const stream::BatchOutcome first = Process(WarmThenHot("l1"));
  const engine::RoutingEvent old_hot = Up(first, "l1", "hot");
  Process({OutcomeJson("no-such-routing", "l1", "a1", "ACCEPTED", kT0 + 90 * kMin)});
  ASSERT_EQ(Unmatched().size(), 1u);
  // Nine days on: everything is younger than ten days.
  const stream::BatchOutcome second = Process({LeadJson("l2", "a1", kT0 + 9 * kDay),
                                               EventJson("e-l2", "l2", "a1", "demo", kT0 + 9 * kDay)});
  const engine::RoutingEvent new_hot = Up(second, "l2", "hot");
  EXPECT_TRUE(Snapshot(old_hot.routing_id));
  EXPECT_EQ(Unmatched().size(), 1u);

  // Stream time kT0 + 10d + 2h: l1's events (kT0, kT0 + 1h) and the outcome (kT0 + 90 min)
  // are older than stream time - 10 days; l2's are not.
  Process({AccountJson("a1", kT0 + 10 * kDay + 2 * kHour)});
  for (const auto& ev : first.events) EXPECT_FALSE(Snapshot(ev.routing_id)) << ev.to_tier << " is past retention";
  EXPECT_TRUE(Snapshot(new_hot.routing_id));
  EXPECT_THAT(Unmatched(), ::testing::IsEmpty());
  auto indexed = store_->LatestUpRouting(kPartition, engine::EntityKind::kLead, "l1", kT0 + 100 * kDay);
  ASSERT_TRUE(indexed.ok());
  EXPECT_FALSE(*indexed) << "the entity index goes with the snapshot";
  // An outcome for l1 now answers nothing.
  const stream::BatchOutcome late = Process({OutcomeJson("", "l1", "a1", "CLOSED_WON", kT0 + 10 * kDay + 3 * kHour)});
  EXPECT_THAT(late.joined, ElementsAre(stream::JoinedOutcome{"lead", "unmatched", codec::WireOutcomeKind::kClosedWon}));
}

TEST_F(RoutingSnapshotTest, AnOutcomeWithARoutingIdAnswersThatRoutingEvent) {
  const stream::BatchOutcome out = Process(WarmThenHot());
  const engine::RoutingEvent warm = Up(out, "l1", "warm");
  // Named by id: the earlier (warm) event, though a later one (hot) precedes the outcome.
  const stream::BatchOutcome answered =
      Process({OutcomeJson(warm.routing_id, "l1", "a1", "REJECTED", kT0 + 2 * kHour, "no_budget")});
  EXPECT_THAT(answered.joined, ElementsAre(stream::JoinedOutcome{"lead", "warm", codec::WireOutcomeKind::kRejected}));
  auto kept = Snapshot(warm.routing_id);
  ASSERT_TRUE(kept);
  ASSERT_EQ(kept->outcomes.size(), 1u);
  EXPECT_EQ(kept->outcomes[0].kind, codec::WireOutcomeKind::kRejected);
  EXPECT_EQ(kept->outcomes[0].reason, "no_budget");
  EXPECT_EQ(kept->outcomes[0].occurred_at_ms, kT0 + 2 * kHour);
  EXPECT_THAT(Snapshot(Up(out, "l1", "hot").routing_id)->outcomes, ::testing::IsEmpty());
  // A second outcome is appended after the first.
  Process({OutcomeJson(warm.routing_id, "l1", "a1", "ACCEPTED", kT0 + 3 * kHour)});
  kept = Snapshot(warm.routing_id);
  ASSERT_EQ(kept->outcomes.size(), 2u);
  EXPECT_EQ(kept->outcomes[1].kind, codec::WireOutcomeKind::kAccepted);
}

std::string UpId(const stream::BatchOutcome& out, const std::string& tier) {
  for (const auto& ev : out.events) {
    if (ev.entity == engine::EntityKind::kLead && ev.to_tier == tier && ev.direction == engine::Direction::kUp) {
      return ev.routing_id;
    }
  }
  ADD_FAILURE() << "no lead event up to " << tier;
  return "";
}

// Outcomes without a routing_id: at kT0 + 30 min (between warm at kT0 and hot at
// kT0 + 1h), at kT0 + 1h (hot's own time), and before anything was routed.
std::vector<std::string> OutcomesByTime() {
  return {OutcomeJson("", "l1", "a1", "ACCEPTED", kT0 + 30 * kMin),
          OutcomeJson("", "l1", "a1", "OPPORTUNITY_CREATED", kT0 + kHour),
          OutcomeJson("", "l1", "a1", "ACCEPTED", kT0 - kMin)};
}

const std::vector<stream::JoinedOutcome> kByTime = {
    {"lead", "warm", codec::WireOutcomeKind::kAccepted},  // the latest UP at or before: not the later hot
    {"lead", "hot", codec::WireOutcomeKind::kOpportunityCreated},  // at its time is "at or before"
    {"lead", "unmatched", codec::WireOutcomeKind::kAccepted}};     // nothing routed before it

TEST_F(RoutingSnapshotTest, AnOutcomeWithoutRoutingIdAnswersTheLatestUpEventOfItsLeadAtOrBeforeIt) {
  const stream::BatchOutcome routed = Process(WarmThenHot());
  const stream::BatchOutcome answered = Process(OutcomesByTime());
  EXPECT_EQ(answered.joined, kByTime);
  const auto warm = Snapshot(UpId(routed, "warm")), hot = Snapshot(UpId(routed, "hot"));
  ASSERT_TRUE(warm && hot);
  ASSERT_EQ(warm->outcomes.size(), 1u);
  EXPECT_EQ(warm->outcomes[0].occurred_at_ms, kT0 + 30 * kMin);
  ASSERT_EQ(hot->outcomes.size(), 1u);
  EXPECT_EQ(hot->outcomes[0].occurred_at_ms, kT0 + kHour);
  EXPECT_EQ(Unmatched().size(), 1u);
}

TEST_F(RoutingSnapshotTest, TheJoinFindsRoutingEventsOfTheSameUncommittedBatch) {
  std::vector<std::string> batch = WarmThenHot();
  for (const auto& o : OutcomesByTime()) batch.push_back(o);
  const stream::BatchOutcome out = Process(batch);
  EXPECT_EQ(out.joined, kByTime);
  const auto warm = Snapshot(UpId(out, "warm")), hot = Snapshot(UpId(out, "hot"));
  ASSERT_TRUE(warm && hot);
  ASSERT_EQ(warm->outcomes.size(), 1u);
  EXPECT_EQ(warm->outcomes[0].occurred_at_ms, kT0 + 30 * kMin);
  ASSERT_EQ(hot->outcomes.size(), 1u);
  EXPECT_EQ(hot->outcomes[0].occurred_at_ms, kT0 + kHour);
}

TEST_F(RoutingSnapshotTest, AnOutcomeRoutedBeforeItsRoutingEventInTheBatchDoesNotAnswerIt) {
  // The outcome comes first in the batch: what is routed after it is not a candidate,
  // whatever its time.
  const stream::BatchOutcome out =
      Process({AccountJson("a1", kT0), OutcomeJson("", "l1", "a1", "ACCEPTED", kT0 + kDay), LeadJson("l1", "a1", kT0)});
  EXPECT_THAT(out.joined, ElementsAre(stream::JoinedOutcome{"lead", "unmatched", codec::WireOutcomeKind::kAccepted}));
  EXPECT_THAT(Snapshot(UpId(out, "warm"))->outcomes, ::testing::IsEmpty());
}

TEST_F(RoutingSnapshotTest, AnOutcomeWithoutLeadIdAnswersItsAccountsLatestUpEvent) {
  // Two buyers with a demo each: account intent 80, coverage 75, two contacts: tier A.
  const stream::BatchOutcome routed =
      Process({AccountJson("a1", kT0), LeadJson("l1", "a1", kT0, R"(,"role":"buyer")"),
               LeadJson("l2", "a1", kT0, R"(,"role":"buyer")"), EventJson("d1", "l1", "a1", "demo", kT0 + kHour),
               EventJson("d2", "l2", "a1", "demo", kT0 + kHour)});
  const engine::RoutingEvent account_a = Up(routed, "a1", "A");
  const stream::BatchOutcome answered = Process({OutcomeJson("", "", "a1", "CLOSED_WON", kT0 + kDay)});
  EXPECT_THAT(answered.joined, ElementsAre(stream::JoinedOutcome{"account", "A", codec::WireOutcomeKind::kClosedWon}));
  ASSERT_EQ(Snapshot(account_a.routing_id)->outcomes.size(), 1u);
  for (const auto& ev : routed.events) {
    if (ev.entity == engine::EntityKind::kLead) {
      EXPECT_THAT(Snapshot(ev.routing_id)->outcomes, ::testing::IsEmpty()) << "a lead's event is not the account's";
    }
  }
}

TEST_F(RoutingSnapshotTest, OutcomesThatAnswerNothingAreKeptAndCountedNotRefused) {
  Process(WarmThenHot());
  const stream::BatchOutcome out = Process({OutcomeJson("unknown-id", "l1", "a1", "ACCEPTED", kT0 + kDay),
                                            OutcomeJson("", "nobody", "a1", "CLOSED_LOST", kT0 + kDay, "price"),
                                            OutcomeJson("", "", "a1", "ACCEPTED", kT0 + kDay)});
  EXPECT_THAT(out.refused, ::testing::IsEmpty()) << "never dead letters";
  EXPECT_THAT(out.joined, ElementsAre(stream::JoinedOutcome{"lead", "unmatched", codec::WireOutcomeKind::kAccepted},
                                      stream::JoinedOutcome{"lead", "unmatched", codec::WireOutcomeKind::kClosedLost},
                                      stream::JoinedOutcome{"account", "unmatched", codec::WireOutcomeKind::kAccepted}));
  const auto kept = Unmatched();
  ASSERT_EQ(kept.size(), 3u);
  std::vector<std::string> reasons_or_ids;
  for (const auto& o : kept) reasons_or_ids.push_back(o.routing_id + "/" + o.lead_id + "/" + o.reason);
  EXPECT_THAT(reasons_or_ids, ::testing::UnorderedElementsAre("unknown-id/l1/", "/nobody/price", "//"));
}

TEST_F(RoutingSnapshotTest, AForgottenLeadTakesItsSnapshotsAndUnmatchedOutcomesWithIt) {
  const stream::BatchOutcome routed = Process(WarmThenHot());
  Process({OutcomeJson("", "l1", "a1", "ACCEPTED", kT0 - kDay), OutcomeJson("", "l9", "a1", "ACCEPTED", kT0 - kDay)});
  ASSERT_EQ(Unmatched().size(), 2u);
  Process({R"({"forget":{"account_id":"a1","lead_id":"l1"}})"});
  const auto left = Unmatched();
  ASSERT_EQ(left.size(), 1u) << "l1's unmatched outcome goes, another lead's stays";
  EXPECT_EQ(left[0].lead_id, "l9");
  for (const auto& ev : routed.events) {
    if (ev.lead_id == "l1") EXPECT_FALSE(Snapshot(ev.routing_id)) << ev.to_tier;
  }
  auto indexed = store_->LatestUpRouting(kPartition, engine::EntityKind::kLead, "l1", kT0 + kDay);
  ASSERT_TRUE(indexed.ok());
  EXPECT_FALSE(*indexed);
}

}  // namespace
}  // namespace leadscore::testing
