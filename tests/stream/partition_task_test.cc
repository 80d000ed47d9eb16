// The partition task over a real RocksDB store: a batch is scored, refused records are
// reported with their reason, the commit makes state, offsets and outbox durable
// together, a new task resumes from them, and views show the committed state.
#include "stream/partition_task.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "engine/harness.h"

namespace leadscore::testing {
namespace {

class PartitionTaskTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/leadscore-task-test-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    auto s = store::StateStore::Open({.dir = dir_});
    ASSERT_TRUE(s.ok()) << s.status().message();
    store_ = std::move(*s);
    model_ = MustLoad(kTestModel);
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::unique_ptr<stream::PartitionTask> NewTask() {
    return std::make_unique<stream::PartitionTask>(3, model_, stream::TaskOptions{}, store_.get());
  }
  static stream::InputRecord Record(const std::string& value, int64_t offset, std::optional<std::string_view> key) {
    return {"events", codec::Format::kJson, offset, key, value};
  }

  std::string dir_;
  std::unique_ptr<store::StateStore> store_;
  std::shared_ptr<const model::Model> model_;
};

TEST_F(PartitionTaskTest, ABatchCommitsStateOffsetsAndOutboxTogetherAndANewTaskResumesFromThem) {
  auto task = NewTask();
  ASSERT_TRUE(task->Resume().ok());
  const std::string account = R"({"account":{"account_id":"a1","updated_at_ms":"1","industry":"software"}})";
  const std::string lead = R"({"lead":{"lead_id":"l1","account_id":"a1","updated_at_ms":"1","seniority":"vp"}})";
  const std::string e1 = EventJson("e1", "l1", "a1", "demo", kT0);
  const std::string e1_again = e1;
  const std::string bad = "not json";
  const std::string unkeyed = EventJson("e2", "l1", "a1", "view", kT0);
  const std::string unknown = EventJson("e3", "l1", "a1", "no_such_signal", kT0);
  std::vector<stream::InputRecord> batch = {Record(account, 8, "a1"), Record(lead, 9, "a1"), Record(e1, 10, "a1"), Record(bad, 11, "a1"), Record(e1_again, 12, "a1"),
                                            Record(unkeyed, 13, std::nullopt), Record(unknown, 14, "a1")};
  stream::BatchOutcome out;
  ASSERT_TRUE(task->Process(batch, kT0, &out).ok());
  EXPECT_EQ(out.count(engine::ApplyOutcome::kApplied), 3u);
  EXPECT_EQ(out.count(engine::ApplyOutcome::kDuplicate), 1u);
  EXPECT_EQ(out.count(engine::ApplyOutcome::kUnknownSignal), 1u);
  ASSERT_EQ(out.refused.size(), 2u);
  EXPECT_EQ(out.refused[0].record, 3u);
  EXPECT_EQ(out.refused[0].reason, codec::Refusal::kUnparseable);
  EXPECT_EQ(out.refused[1].record, 5u);
  EXPECT_EQ(out.refused[1].reason, codec::Refusal::kKeyMismatch);
  ASSERT_FALSE(out.events.empty());
  ASSERT_EQ(out.events.back().to_tier, "hot");

  EXPECT_FALSE(task->ViewLead("l1").has_value()) << "scored, not committed: a view shows the committed state";
  ASSERT_TRUE(task->Commit({{"events", 15}}, out.events).ok());
  EXPECT_EQ(task->outbox().size(), out.events.size());
  EXPECT_EQ(task->ViewLead("l1")->tier, "hot");

  auto resumed = NewTask();
  auto offsets = resumed->Resume();
  ASSERT_TRUE(offsets.ok());
  EXPECT_EQ(offsets->at("events"), 15);
  EXPECT_EQ(resumed->stream_time(), kT0);
  EXPECT_EQ(resumed->outbox().size(), out.events.size());
  EXPECT_TRUE(resumed->outbox().needs_check()) << "an earlier run may have published them";
  EXPECT_EQ(resumed->ViewLead("l1")->tier, "hot");
}

TEST_F(PartitionTaskTest, StateOfAnotherModelIsRefusedOnResume) {
  auto task = NewTask();
  ASSERT_TRUE(task->Resume().ok());
  stream::BatchOutcome out;
  const std::string e1 = EventJson("e1", "l1", "a1", "demo", kT0);
  ASSERT_TRUE(task->Process(std::vector<stream::InputRecord>{Record(e1, 0, "a1")}, kT0, &out).ok());
  ASSERT_TRUE(task->Commit({{"events", 1}}, out.events).ok());
  std::string other(kTestModel);
  other.replace(other.find("version: test"), 13, "version: other");
  stream::PartitionTask next(3, MustLoad(other), {}, store_.get());
  auto resumed = next.Resume();
  ASSERT_FALSE(resumed.ok());
  EXPECT_THAT(resumed.status().message(), ::testing::HasSubstr("state was built by model test"));
}

// Erasure to the last byte: after the batch that applied a Forget, no file of the state
// directory holds the erased lead's id (old snapshots in SST files, delete markers, the
// WAL's earlier records: all rewritten or dropped).
TEST_F(PartitionTaskTest, AForgottenLeadLeavesNoByteOnDisk) {
  store_.reset();
  std::filesystem::remove_all(dir_);
  auto s = store::StateStore::Open({.dir = dir_, .erasure_scrub_interval_ms = 0});
  ASSERT_TRUE(s.ok());
  store_ = std::move(*s);
  const std::string id = "erase-me-7f3a91";
  auto task = NewTask();
  ASSERT_TRUE(task->Resume().ok());
  int64_t offset = 0;
  auto run = [&](const std::string& json) {
    stream::BatchOutcome out;
    const std::vector<stream::InputRecord> batch = {Record(json, offset, "a1")};
    ASSERT_TRUE(task->Process(batch, kT0, &out).ok());
    ASSERT_TRUE(task->Commit({{"events", ++offset}}, out.events).ok());
  };
  run(R"({"lead":{"lead_id":")" + id + R"(","account_id":"a1","updated_at_ms":"1","seniority":"vp"}})");
  run(EventJson("e1", id, "a1", "demo", kT0));
  run(EventJson("e2", "someone-else", "a1", "view", kT0));
  auto holds_id = [&] {
    std::vector<std::string> files;
    for (const auto& f : std::filesystem::directory_iterator(dir_)) {
      std::ifstream in(f.path(), std::ios::binary);
      const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      if (bytes.find(id) != std::string::npos) files.push_back(f.path().filename().string());
    }
    return files;
  };
  ASSERT_FALSE(holds_id().empty()) << "the id is on disk before the erasure";
  ASSERT_GE(task->outbox().size(), 1u) << "its routing event waits to be published";
  run(R"({"forget":{"account_id":"a1","lead_id":")" + id + R"("}})");
  EXPECT_FALSE(task->ViewLead(id).has_value());
  EXPECT_THAT(holds_id(), ::testing::IsEmpty());
  for (const auto& r : task->outbox().Unproduced()) {
    EXPECT_EQ(r.value.find(id), std::string::npos) << "its unpublished routing event went with it";
  }
  EXPECT_TRUE(task->ViewLead("someone-else").has_value()) << "the rest of the partition is kept";
}

}  // namespace
}  // namespace leadscore::testing
