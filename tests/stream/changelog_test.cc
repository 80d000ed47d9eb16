// The changelog end to end: a store writing through KafkaChangelog to the embedded
// broker (a real Kafka-protocol broker over TCP), and other stores restoring from it.
// Each case compares every key of a partition, byte for byte.
#include "stream/changelog_topic.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <chrono>
#include <filesystem>
#include <thread>
#include <map>
#include <vector>

#include "codec/codec.h"
#include "store/state_store.h"
#include "stream/embedded_broker.h"
#include "stream/standby.h"

namespace leadscore::testing {
namespace {

constexpr int32_t kPartition = 1;

class ChangelogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto b = stream::EmbeddedBroker::Start({.brokers = 1, .partitions = 2, .topics = {"in", "state"}});
    ASSERT_TRUE(b.ok()) << b.status().message();
    broker_ = std::move(*b);
    base_ = ::testing::TempDir() + "/leadscore-changelog-test-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(base_);
    std::filesystem::create_directories(base_);
  }
  void TearDown() override { std::filesystem::remove_all(base_); }

  std::unique_ptr<stream::KafkaChangelog> OpenChangelog() {
    auto c = stream::KafkaChangelog::Open(
        {.brokers = broker_->bootstrap(), .topic = "state", .input_topics = {"in"}, .timeout_ms = 10000});
    EXPECT_TRUE(c.ok()) << c.status().message();
    return c.ok() ? std::move(*c) : nullptr;
  }

  // A store in its own directory, writing through its own changelog clients.
  struct Instance {
    std::unique_ptr<stream::KafkaChangelog> changelog;
    std::unique_ptr<store::StateStore> store;
  };
  Instance Open(const std::string& name) {
    Instance i;
    i.changelog = OpenChangelog();
    auto s = store::StateStore::Open({.dir = base_ + "/" + name});
    if (!s.ok()) {
      ADD_FAILURE() << s.status().message();
      return i;
    }
    i.store = std::move(*s);
    i.store->AttachChangelog(i.changelog.get());
    return i;
  }

  // Every key of the partition in the store's directory (closed meanwhile by the caller).
  static std::map<std::string, std::string> Keys(store::StateStore& s) {
    std::map<std::string, std::string> out;
    EXPECT_TRUE(s.ForEachEntity(kPartition, [&](engine::EntityKind kind, std::string_view id,
                                                const store::StoredEntity& e) {
                   out[std::string(kind == engine::EntityKind::kLead ? "L/" : "A/") + std::string(id)] =
                       std::to_string(e.due_ms) + ":" + e.bytes;
                 }).ok());
    auto meta = s.Load(kPartition);
    EXPECT_TRUE(meta.ok());
    for (const auto& [topic, offset] : meta->offsets) out["O/" + topic] = std::to_string(offset);
    out["M/stream_time"] = std::to_string(meta->stream_time_ms);
    out["M/model"] = meta->model_version;
    for (const auto& r : meta->outbox) out["X/" + std::to_string(r.seq)] = r.id + r.key + r.value;
    std::vector<store::DueEntity> due;
    EXPECT_TRUE(s.DueBy(kPartition, INT64_MAX, &due).ok());
    for (const auto& d : due) out["T/" + d.id] = "due";
    return out;
  }

  // One batch: entity `id` with `bytes` due at `due`, offset `offset`, a routing event.
  static store::PartitionCommit Batch(const std::string& id, const std::string& bytes, int64_t due, int64_t offset,
                                      int64_t previous_due = INT64_MAX) {
    store::PartitionCommit c;
    c.partition = kPartition;
    engine::Engine::Change ch;
    ch.kind = engine::EntityKind::kLead;
    ch.id = id;
    ch.bytes = bytes;
    ch.due_ms = due;
    ch.previous_due_ms = previous_due;
    c.changes.push_back(ch);
    c.offsets["in"] = offset;
    c.stream_time_ms = offset * 1000;
    c.model_version = "m1";
    c.outbox.push_back({static_cast<uint64_t>(offset), "r" + std::to_string(offset), "k", "v"});
    return c;
  }

  std::unique_ptr<stream::EmbeddedBroker> broker_;
  std::string base_;
};

TEST_F(ChangelogTest, ANewDiskRestoresEverythingAStaleOneCatchesUpBothEqualTheWriter) {
  Instance writer = Open("writer");
  ASSERT_TRUE(writer.store->Commit({Batch("ana", "s1", 100, 1)}).ok());
  ASSERT_TRUE(writer.store->Commit({Batch("bo", "s2", 200, 2)}).ok());
  Instance stale = Open("stale");
  store::RestoreProgress first;
  ASSERT_TRUE(stale.store->Restore(kPartition, *stale.changelog, &first).ok());
  EXPECT_EQ(Keys(*stale.store), Keys(*writer.store));

  // The writer goes on: a lead changes its due time, one is erased, one delivery is recorded.
  ASSERT_TRUE(writer.store->Commit({Batch("ana", "s3", 300, 3, 100)}).ok());
  store::PartitionCommit erase = Batch("bo", "", INT64_MAX, 4, 200);
  erase.outbox.clear();
  ASSERT_TRUE(writer.store->Commit({erase}).ok());
  ASSERT_TRUE(writer.store->CommitDelivered({{kPartition, {1, 2}, {{0, 7}}}}).ok());
  ASSERT_TRUE(writer.store->FlushChangelog(kPartition).ok());

  store::RestoreProgress catch_up;
  ASSERT_TRUE(stale.store->Restore(kPartition, *stale.changelog, &catch_up).ok());
  EXPECT_GT(catch_up.from, first.from) << "only what came after its position is read";
  EXPECT_EQ(Keys(*stale.store), Keys(*writer.store));
  EXPECT_EQ(Keys(*stale.store).count("A/bo") + Keys(*stale.store).count("L/bo"), 0u) << "the erasure reached it";

  Instance fresh = Open("fresh");
  store::RestoreProgress all;
  ASSERT_TRUE(fresh.store->Restore(kPartition, *fresh.changelog, &all).ok());
  EXPECT_EQ(Keys(*fresh.store), Keys(*writer.store));
  EXPECT_EQ(all.from, 0);

  store::RestoreProgress none;
  ASSERT_TRUE(fresh.store->Restore(kPartition, *fresh.changelog, &none).ok());
  EXPECT_EQ(none.records, 0u) << "at the changelog's end: nothing to read";
}

// Routing snapshots move with their partition: written in the commit's changelog batch,
// so a new disk restores them, the outcomes appended later, the entity index the join
// seeks in, the unmatched outcomes, and the retention sweep's deletes.
TEST_F(ChangelogTest, RoutingSnapshotsAreRestoredOntoAnEmptyDisk) {
  constexpr int64_t kDay = 24LL * 3600 * 1000;
  Instance writer = Open("writer");
  engine::RoutingEvent ev;
  ev.routing_id = "r-hot";
  ev.lead_id = "ana";
  ev.account_id = "acme";
  ev.to_tier = "hot";
  ev.occurred_at_ms = 1500;
  codec::RoutingSnapshot snapshot{ev, {}};
  store::PartitionCommit routed = Batch("ana", "s1", 100, 1);
  routed.stream_time_ms = 2000;
  routed.routings.push_back({"r-hot", engine::EntityKind::kLead, "ana", true, 1500, 0, codec::EncodeSnapshot(snapshot)});
  routed.routing_seq = 1;
  codec::WireOutcome lost{.routing_id = "", .lead_id = "nobody", .account_id = "acme",
                          .kind = codec::WireOutcomeKind::kAccepted, .reason = "", .amount = 0, .occurred_at_ms = 1800};
  routed.unmatched.push_back({1800, "in/7", "nobody", "acme", codec::EncodeInput(lost, codec::Format::kProtobuf)});
  ASSERT_TRUE(writer.store->Commit({routed}).ok());
  // A later batch: an outcome appended to the snapshot.
  snapshot.outcomes.push_back({.routing_id = "r-hot", .lead_id = "ana", .account_id = "acme",
                               .kind = codec::WireOutcomeKind::kClosedWon, .reason = "", .amount = 5000,
                               .occurred_at_ms = 3000});
  store::PartitionCommit answered = Batch("ana", "s2", 100, 2, 100);
  answered.stream_time_ms = 3000;
  answered.routings_answered["r-hot"] = codec::EncodeSnapshot(snapshot);
  ASSERT_TRUE(writer.store->Commit({answered}).ok());

  auto routings = [](store::StateStore& s) {
    std::vector<std::string> out;
    EXPECT_TRUE(s.ForEachRouting(kPartition, [&](std::string_view b) {
                   out.emplace_back(b);
                   return Status::Ok();
                 }).ok());
    EXPECT_TRUE(s.ForEachUnmatched(kPartition, [&](std::string_view b) {
                   out.push_back("unmatched:" + std::string(b));  // the outcome's bytes
                   return Status::Ok();
                 }).ok());
    return out;
  };
  Instance fresh = Open("fresh");
  store::RestoreProgress all;
  ASSERT_TRUE(fresh.store->Restore(kPartition, *fresh.changelog, &all).ok());
  EXPECT_EQ(Keys(*fresh.store), Keys(*writer.store));
  const auto restored = routings(*fresh.store);
  EXPECT_EQ(restored, routings(*writer.store));
  ASSERT_EQ(restored.size(), 2u);
  auto decoded = codec::DecodeSnapshot(restored[0]);
  ASSERT_TRUE(decoded.ok());
  ASSERT_EQ(decoded->outcomes.size(), 1u) << "the outcome appended later came with it";
  EXPECT_EQ(decoded->outcomes[0].kind, codec::WireOutcomeKind::kClosedWon);
  auto indexed = fresh.store->LatestUpRouting(kPartition, engine::EntityKind::kLead, "ana", 1600);
  ASSERT_TRUE(indexed.ok());
  ASSERT_TRUE(*indexed) << "the join's index came with it";
  EXPECT_EQ((*indexed)->routing_id, "r-hot");

  // Past retention (400 days by default): the sweep's deletes reach the copy too.
  store::PartitionCommit later = Batch("ana", "s3", 100, 3, 100);
  later.stream_time_ms = 401 * kDay;
  ASSERT_TRUE(writer.store->Commit({later}).ok());
  ASSERT_TRUE(fresh.store->Restore(kPartition, *fresh.changelog, &all).ok());
  EXPECT_THAT(routings(*fresh.store), ::testing::IsEmpty());
  auto gone = fresh.store->GetRouting(kPartition, "r-hot");
  ASSERT_TRUE(gone.ok());
  EXPECT_FALSE(*gone);
}

// A writer that died mid-append leaves records without their end marker: no restore
// applies them, and the first restore overwrites them so no later reader ever does.
TEST_F(ChangelogTest, ABatchWithoutItsEndMarkerIsNeverAppliedAndIsOverwritten) {
  Instance writer = Open("writer");
  ASSERT_TRUE(writer.store->Commit({Batch("ana", "s1", 100, 1)}).ok());
  const auto whole = Keys(*writer.store);
  // Half a batch: a new value for ana and a new offset, no marker (the writer's crash).
  std::string lead_key = std::string("\0\0\0\1L", 5) + "ana", offset_key = std::string("\0\0\0\1O", 5) + "in";
  std::vector<store::ChangelogOp> half = {{lead_key, std::string(8, '\0') + "torn"}, {offset_key, std::string(8, '\x09')}};
  ASSERT_TRUE(writer.changelog->Append(kPartition, half).ok());

  Instance next = Open("next");
  store::RestoreProgress p;
  ASSERT_TRUE(next.store->Restore(kPartition, *next.changelog, &p).ok());
  EXPECT_EQ(Keys(*next.store), whole) << "the torn batch is not applied";
  // The next owner goes on writing; a later restore from scratch still ignores the torn records.
  ASSERT_TRUE(next.store->Commit({Batch("cy", "s9", 900, 2)}).ok());
  Instance later = Open("later");
  ASSERT_TRUE(later.store->Restore(kPartition, *later.changelog, &p).ok());
  EXPECT_EQ(Keys(*later.store), Keys(*next.store));
  EXPECT_EQ(Keys(*later.store).at("L/ana"), whole.at("L/ana"));
}

// State written by a release without a changelog (no position) seeds an empty changelog;
// a changelog that lost what the local state has (recreated) is seeded again.
TEST_F(ChangelogTest, StateWithoutAChangelogSeedsIt) {
  {
    auto old = store::StateStore::Open({.dir = base_ + "/old"});
    ASSERT_TRUE(old.ok());
    ASSERT_TRUE((*old)->Commit({Batch("ana", "s1", 100, 1), Batch("bo", "s2", 200, 2)}).ok());
  }
  Instance upgraded = Open("old");
  store::RestoreProgress p;
  ASSERT_TRUE(upgraded.store->Restore(kPartition, *upgraded.changelog, &p).ok());
  EXPECT_GT(p.records, 0u);
  Instance fresh = Open("fresh");
  ASSERT_TRUE(fresh.store->Restore(kPartition, *fresh.changelog, &p).ok());
  EXPECT_EQ(Keys(*fresh.store), Keys(*upgraded.store));
  EXPECT_EQ(Keys(*fresh.store).count("L/bo"), 1u);
}

// A standby follows a partition it does not own; taking it over then restores nothing
// (it is at the changelog's end) and its state equals the writer's.
TEST_F(ChangelogTest, AStandbyFollowsSoATakeoverRestoresOnlyTheTail) {
  Instance writer = Open("writer");
  Instance standby_side = Open("standby");
  auto standby = stream::Standby::Start(standby_side.changelog->options(), standby_side.store.get());
  ASSERT_TRUE(standby.ok()) << standby.status().message();
  (*standby)->Follow(kPartition);
  for (int i = 1; i <= 20; ++i) ASSERT_TRUE(writer.store->Commit({Batch("l" + std::to_string(i), "s", 100 + i, i)}).ok());
  auto end = writer.store->ChangelogPosition(kPartition);
  ASSERT_TRUE(end.ok() && *end);
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (;;) {  // bounded wait for the standby's thread
    auto at = standby_side.store->ChangelogPosition(kPartition);
    ASSERT_TRUE(at.ok());
    if (*at == *end || std::chrono::steady_clock::now() > until) break;
    std::this_thread::yield();
  }
  (*standby)->Release(kPartition);
  EXPECT_EQ((*standby)->following(), 0u);
  EXPECT_GT((*standby)->applied_records(), 20u);
  store::RestoreProgress takeover;
  ASSERT_TRUE(standby_side.store->Restore(kPartition, *standby_side.changelog, &takeover).ok());
  EXPECT_EQ(takeover.records, 0u) << "the standby was at the end: nothing to restore";
  EXPECT_EQ(Keys(*standby_side.store), Keys(*writer.store));
}

// The service's commits append from several threads at once, one partition each, and
// each waits for its own records while one of them serves everyone's delivery reports.
// Every append returns its own partition's position. (How soon a waiter wakes is not
// asserted: a missed wake costs a 5 ms poll, which no test should time.)
TEST_F(ChangelogTest, AppendsFromSeveralThreadsEachReturnTheirOwnPosition) {
  constexpr int kPartitions = 8, kAppends = 40, kRecords = 25;
  ASSERT_TRUE(broker_->CreateTopic("wide-in", kPartitions).ok());
  ASSERT_TRUE(broker_->CreateTopic("wide-state", kPartitions).ok());
  auto c = stream::KafkaChangelog::Open(
      {.brokers = broker_->bootstrap(), .topic = "wide-state", .input_topics = {"wide-in"}, .timeout_ms = 10000});
  ASSERT_TRUE(c.ok()) << c.status().message();
  std::vector<std::vector<int64_t>> positions(kPartitions);
  std::vector<std::thread> threads;
  for (int32_t p = 0; p < kPartitions; ++p) {
    threads.emplace_back([&, p] {
      std::vector<store::ChangelogOp> ops;
      for (int r = 0; r < kRecords; ++r) ops.push_back({"key-" + std::to_string(r), std::string(100, 'v')});
      for (int a = 0; a < kAppends; ++a) {
        auto at = (*c)->Append(p, ops);
        positions[p].push_back(at.ok() ? *at : -1);
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int32_t p = 0; p < kPartitions; ++p) {
    std::vector<int64_t> expected;
    for (int a = 1; a <= kAppends; ++a) expected.push_back(int64_t{a} * kRecords);
    EXPECT_EQ(positions[p], expected) << "partition " << p;
    auto marks = (*c)->Watermarks(p);
    ASSERT_TRUE(marks.ok()) << marks.status().message();
    EXPECT_EQ(marks->second, int64_t{kAppends} * kRecords) << "partition " << p;
  }
  EXPECT_EQ((*c)->pending_records(), 0u);
}

TEST_F(ChangelogTest, AChangelogTopicWithTooFewPartitionsIsRefused) {
  ASSERT_TRUE(broker_->CreateTopic("small-state", 1).ok());
  auto c = stream::KafkaChangelog::Open(
      {.brokers = broker_->bootstrap(), .topic = "small-state", .input_topics = {"in"}, .timeout_ms = 10000});
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), ::testing::HasSubstr("one per input partition"));
}

}  // namespace
}  // namespace leadscore::testing
