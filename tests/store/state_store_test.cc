// The RocksDB state on disk: entities with their decay timer index, offsets, the outbox,
// partitions kept apart, and a write failure reported as an error that loses nothing.
#include "store/state_store.h"

#include <gtest/gtest.h>

#include <limits>

#include <atomic>
#include <filesystem>

#include "store/full_disk_env.h"

namespace leadscore::store {
namespace {

using engine::EntityKind;

class StateStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/leadscore-store-test-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::unique_ptr<StateStore> Open(rocksdb::Env* env = nullptr) {
    auto s = StateStore::Open({.dir = dir_, .env = env});
    EXPECT_TRUE(s.ok()) << s.status().message();
    return s.ok() ? std::move(*s) : nullptr;
  }
  static engine::Engine::Change Change(EntityKind kind, std::string id, std::string bytes, int64_t due,
                                       int64_t previous_due = INT64_MAX) {
    return {kind, std::move(id), std::move(bytes), due, previous_due};
  }
  static std::vector<std::string> Due(const StateStore& s, int32_t p, int64_t until,
                                      int64_t from = std::numeric_limits<int64_t>::min()) {
    std::vector<DueEntity> due;
    EXPECT_TRUE(s.DueBy(p, until, &due, from).ok());
    std::vector<std::string> out;
    for (const auto& d : due) out.push_back((d.kind == EntityKind::kLead ? "L:" : "A:") + d.id);
    return out;
  }
  std::string dir_;
};

TEST_F(StateStoreTest, EntitiesAreReadBackWithTheirDueTime) {
  auto s = Open();
  PartitionCommit c{.partition = 3, .changes = {Change(EntityKind::kLead, "l1", "bytes-l1", 500)},
                    .offsets = {{"events", 42}}, .stream_time_ms = 77, .model_version = "m1"};
  ASSERT_TRUE(s->Commit({c}).ok());
  auto got = s->Get(3, EntityKind::kLead, "l1");
  ASSERT_TRUE(got.ok());
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->bytes, "bytes-l1");
  EXPECT_EQ((*got)->due_ms, 500);
  EXPECT_FALSE(s->Get(3, EntityKind::kAccount, "l1")->has_value()) << "kinds are apart";
  EXPECT_FALSE(s->Get(2, EntityKind::kLead, "l1")->has_value()) << "partitions are apart";
  auto state = s->Load(3);
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->offsets.at("events"), 42);
  EXPECT_EQ(state->stream_time_ms, 77);
  EXPECT_EQ(state->model_version, "m1");
}

// A batch's misses are read together: in the order asked, what the store lacks as
// nothing, kinds and partitions apart as for one Get, and counted as read together.
TEST_F(StateStoreTest, ManyEntitiesAreReadTogetherInTheOrderAsked) {
  auto s = Open();
  PartitionCommit c{.partition = 3,
                    .changes = {Change(EntityKind::kLead, "l1", "bytes-l1", 500),
                                Change(EntityKind::kAccount, "a1", "bytes-a1", INT64_MAX)},
                    .model_version = "m1"};
  PartitionCommit other{.partition = 2, .changes = {Change(EntityKind::kLead, "l2", "bytes-l2", 9)}, .model_version = "m1"};
  ASSERT_TRUE(s->Commit({c, other}).ok());
  const StateStore::Stats before = s->ReadStats();
  const std::vector<EntityKey> keys = {{EntityKind::kAccount, "a1"}, {EntityKind::kLead, "nobody"},
                                       {EntityKind::kLead, "l1"}, {EntityKind::kAccount, "l1"},
                                       {EntityKind::kLead, "l2"}};
  std::vector<std::optional<StoredEntity>> got;
  ASSERT_TRUE(s->GetMany(3, keys, &got).ok());
  ASSERT_EQ(got.size(), keys.size());
  ASSERT_TRUE(got[0].has_value());
  EXPECT_EQ(got[0]->bytes, "bytes-a1");
  EXPECT_EQ(got[0]->due_ms, INT64_MAX);
  EXPECT_FALSE(got[1].has_value()) << "not stored";
  ASSERT_TRUE(got[2].has_value());
  EXPECT_EQ(got[2]->bytes, "bytes-l1");
  EXPECT_EQ(got[2]->due_ms, 500);
  EXPECT_FALSE(got[3].has_value()) << "kinds are apart";
  EXPECT_FALSE(got[4].has_value()) << "partitions are apart";
  const StateStore::Stats after = s->ReadStats();
  EXPECT_EQ(after.keys_read_together - before.keys_read_together, keys.size());
  EXPECT_EQ(after.keys_read_alone, before.keys_read_alone);
  ASSERT_TRUE(s->GetMany(3, {}, &got).ok());
  EXPECT_TRUE(got.empty());
}

// A model change's pass pages through a partition's accounts in key order; its marker
// and the state format are kept beside the partition's other metadata.
TEST_F(StateStoreTest, AccountsAreListedPageByPageAndAPassMarkerIsKeptUntilDone) {
  auto s = Open();
  ASSERT_TRUE(s->Commit({{.partition = 1,
                          .changes = {Change(EntityKind::kAccount, "a2", "x", INT64_MAX), Change(EntityKind::kAccount, "a1", "x", INT64_MAX),
                                      Change(EntityKind::kAccount, "a3", "x", INT64_MAX), Change(EntityKind::kLead, "a0", "x", INT64_MAX)},
                          .model_version = "m1"},
                         {.partition = 2, .changes = {Change(EntityKind::kAccount, "a0", "x", INT64_MAX)}}})
                  .ok());
  std::vector<std::string> page;
  ASSERT_TRUE(s->ListAccounts(1, "", 2, &page).ok());
  EXPECT_EQ(page, (std::vector<std::string>{"a1", "a2"})) << "leads and other partitions are not listed";
  page.clear();
  ASSERT_TRUE(s->ListAccounts(1, "a2", 2, &page).ok());
  EXPECT_EQ(page, (std::vector<std::string>{"a3"})) << "after the last one done";
  page.clear();
  ASSERT_TRUE(s->ListAccounts(1, "a3", 2, &page).ok());
  EXPECT_TRUE(page.empty());

  EXPECT_EQ(s->Load(1)->state_format, 0) << "not recorded: format 4 or older";
  EXPECT_FALSE(s->Load(1)->reevaluation);
  PartitionCommit c{.partition = 1, .model_version = "m1"};
  c.reevaluation = Reevaluation{"m2", "a2"};
  ASSERT_TRUE(s->Commit({c}).ok());
  EXPECT_EQ(s->Load(1)->reevaluation, (Reevaluation{"m2", "a2"}));
  PartitionCommit done{.partition = 1, .model_version = "m2"};
  done.state_format = 5;
  done.reevaluation_done = true;
  ASSERT_TRUE(s->Commit({done}).ok());
  auto state = s->Load(1);
  EXPECT_EQ(state->model_version, "m2");
  EXPECT_EQ(state->state_format, 5);
  EXPECT_FALSE(state->reevaluation);
}

TEST_F(StateStoreTest, TheTimerIndexFollowsEveryChangeOfDueTime) {
  auto s = Open();
  ASSERT_TRUE(s->Commit({{.partition = 0,
                          .changes = {Change(EntityKind::kLead, "l1", "x", 300), Change(EntityKind::kAccount, "a1", "x", 100),
                                      Change(EntityKind::kLead, "l2", "x", -5), Change(EntityKind::kLead, "l3", "x", INT64_MAX)}}})
                  .ok());
  EXPECT_EQ(Due(*s, 0, 299), (std::vector<std::string>{"L:l2", "A:a1"})) << "earliest first, negative times sort first";
  EXPECT_EQ(Due(*s, 0, 300), (std::vector<std::string>{"L:l2", "A:a1", "L:l1"})) << "due at the bound is due";
  EXPECT_EQ(Due(*s, 0, 300, 100), (std::vector<std::string>{"A:a1", "L:l1"})) << "from a time on: due at it is in";
  EXPECT_EQ(Due(*s, 0, 300, 101), (std::vector<std::string>{"L:l1"}));
  EXPECT_TRUE(Due(*s, 0, 299, 101).empty());
  // l1 moves later, a1 is erased, l2 has no check any more.
  ASSERT_TRUE(s->Commit({{.partition = 0,
                          .changes = {Change(EntityKind::kLead, "l1", "x", 900, 300), Change(EntityKind::kAccount, "a1", "", INT64_MAX, 100),
                                      Change(EntityKind::kLead, "l2", "x", INT64_MAX, -5)}}})
                  .ok());
  EXPECT_TRUE(Due(*s, 0, 899).empty());
  EXPECT_EQ(Due(*s, 0, INT64_MAX - 1), (std::vector<std::string>{"L:l1"}));
  EXPECT_TRUE(Due(*s, 1, INT64_MAX - 1).empty()) << "another partition's index is its own";
  EXPECT_FALSE(s->Get(0, EntityKind::kAccount, "a1")->has_value());
}

TEST_F(StateStoreTest, TheOutboxKeepsOrderUntilDeliveredAndRemembersOutputOffsets) {
  {
    auto s = Open();
    PartitionCommit c{.partition = 1};
    for (uint64_t seq = 0; seq < 3; ++seq) c.outbox.push_back({seq, "r" + std::to_string(seq), "a1", "v" + std::to_string(seq)});
    ASSERT_TRUE(s->Commit({c}).ok());
    ASSERT_TRUE(s->CommitDelivered({{.partition = 1, .delivered = {0}, .output_offsets = {{0, 10}, {1, 4}}}}).ok());
  }
  auto s = Open();  // survives a reopen
  auto state = s->Load(1);
  ASSERT_TRUE(state.ok());
  ASSERT_EQ(state->outbox.size(), 2u);
  EXPECT_EQ(state->outbox[0].seq, 1u);
  EXPECT_EQ(state->outbox[0].id, "r1");
  EXPECT_EQ(state->outbox[0].key, "a1");
  EXPECT_EQ(state->outbox[0].value, "v1");
  EXPECT_EQ(state->outbox[1].id, "r2");
  EXPECT_EQ(state->output_offsets, (std::map<int32_t, int64_t>{{0, 10}, {1, 4}}));
  EXPECT_TRUE(s->Load(0)->outbox.empty());
}

TEST_F(StateStoreTest, AFailedWriteIsAnErrorAndTheLastGoodCommitSurvives) {
  testing::FullDiskEnv env;
  {
    auto s = Open(&env);
    ASSERT_TRUE(s->Commit({{.partition = 0, .offsets = {{"events", 5}}}}).ok());
    env.full = true;
    Status st = s->Commit({{.partition = 0, .offsets = {{"events", 9}}}});
    EXPECT_FALSE(st.ok());
    EXPECT_NE(st.message().find("disk full"), std::string::npos) << st.message();
    env.full = false;
  }
  auto s = Open();
  EXPECT_EQ(s->Load(0)->offsets.at("events"), 5) << "the failed batch left no trace; the good one is there";
}

TEST_F(StateStoreTest, StatsSayWhatRocksDbHoldsAndHowItsCacheDoes) {
  PartitionCommit c{.partition = 0, .changes = {Change(EntityKind::kLead, "l1", std::string(1000, 'x'), INT64_MAX)}};
  {
    auto s = Open();
    ASSERT_TRUE(s->Commit({c}).ok());
    const StateStore::Stats fresh = s->ReadStats();
    EXPECT_GT(fresh.memtable_bytes, 0u) << "the write sits in the memtable";
    EXPECT_EQ(fresh.block_cache_hits + fresh.block_cache_misses, 0u) << "nothing read from a file yet";
    EXPECT_EQ(fresh.stall_micros, 0u);
  }  // closing flushes the memtable to a file
  auto s = Open();
  ASSERT_TRUE(s->Get(0, EntityKind::kLead, "l1")->has_value());
  ASSERT_TRUE(s->Get(0, EntityKind::kLead, "l1")->has_value());
  const StateStore::Stats read = s->ReadStats();
  EXPECT_GE(read.block_cache_misses, 1u) << "the first read goes to the file";
  EXPECT_GE(read.block_cache_hits, 1u) << "the second finds the block cached";
  EXPECT_GT(read.block_cache_usage_bytes, 0u);
  EXPECT_GE(read.bytes, 1000u);
}

}  // namespace
}  // namespace leadscore::store
