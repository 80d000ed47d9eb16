// The partition task over a real RocksDB store: a batch is scored, refused records are
// reported with their reason, the commit makes state, offsets and outbox durable
// together, a new task resumes from them, and views show the committed state.
#include "stream/partition_task.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <deque>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "codec/handoff.h"
#include "engine/harness.h"
#include "stream/task_batch.h"
#include "stream/worker_pool.h"

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

// A restart with another model continues from the state (SPEC section 3): the pass of
// tests/stream/model_change_test.cc, not a refusal.
TEST_F(PartitionTaskTest, StateOfAnotherModelIsReevaluatedOnResume) {
  auto task = NewTask();
  ASSERT_TRUE(task->Resume().ok());
  stream::BatchOutcome out;
  const std::string e1 = EventJson("e1", "l1", "a1", "demo", kT0);
  ASSERT_TRUE(task->Process(std::vector<stream::InputRecord>{Record(e1, 0, "a1")}, kT0, &out).ok());
  ASSERT_TRUE(task->Commit({{"events", 1}}, out.events).ok());
  std::string other(kTestModel);
  other.replace(other.find("version: test"), 13, "version: other");
  auto other_model = MustLoad(other);
  stream::PartitionTask next(3, other_model, {}, store_.get());
  auto resumed = next.Resume();
  ASSERT_TRUE(resumed.ok()) << resumed.status().message();
  EXPECT_EQ(resumed->at("events"), 1);
  EXPECT_EQ(next.resume_reevaluation().to_version, other_model->version);
  EXPECT_EQ(store_->Load(3)->model_version, other_model->version);
}

// MIGRATION: state written by leadscore 0.1.0 under examples/model.yaml carries the
// version 0.1.0 computed for it (pinned here, as 0.1.0 printed it). Upgrading the binary
// with the same model file must resume that state, and the next commit writes it back
// under the new version.
TEST_F(PartitionTaskTest, StateOfThePreviousReleaseWithTheSameModelIsResumedAndWrittenBackUnderTheNewVersion) {
  constexpr const char* kExampleVersionOf010 = "example-2026-11+ca6ec43a6808";
  auto example = model::LoadModelFromFile(std::string(LEADSCORE_SOURCE_DIR) + "/examples/model.yaml");
  ASSERT_TRUE(example.ok()) << example.ErrorText();
  ASSERT_NE(example.model->version, kExampleVersionOf010);
  store::PartitionCommit old;
  old.partition = 3;
  old.offsets = {{"events", 7}};
  old.stream_time_ms = kT0;
  old.model_version = kExampleVersionOf010;
  ASSERT_TRUE(store_->Commit({old}).ok());

  stream::PartitionTask task(3, example.model, {}, store_.get());
  auto offsets = task.Resume();
  ASSERT_TRUE(offsets.ok()) << offsets.status().message();
  EXPECT_EQ(offsets->at("events"), 7);
  EXPECT_EQ(task.stream_time(), kT0);

  const std::string account = R"({"account":{"account_id":"a1","updated_at_ms":")" + std::to_string(kT0 + 1) +
                              R"(","industry":"software"}})";
  stream::BatchOutcome out;
  ASSERT_TRUE(task.Process(std::vector<stream::InputRecord>{Record(account, 7, "a1")}, kT0 + 1, &out).ok());
  ASSERT_TRUE(task.Commit({{"events", 8}}, out.events).ok());
  auto state = store_->Load(3);
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->model_version, example.model->version);

  EXPECT_EQ(state->state_format, engine::kStateFormat) << "the (empty) state was rewritten in the current format";

  // Under the legacy version and in format 4, another model is refused: the state is
  // rewritten once under the model that wrote it first.
  store::PartitionCommit legacy;
  legacy.partition = 4;
  legacy.stream_time_ms = kT0;
  legacy.model_version = kExampleVersionOf010;
  ASSERT_TRUE(store_->Commit({legacy}).ok());
  std::string other(kTestModel);
  other.replace(other.find("version: test"), 13, "version: other");
  stream::PartitionTask next(4, MustLoad(other), {}, store_.get());
  auto refused = next.Resume();
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.status().message(),
              ::testing::HasSubstr("state format 4 by model " + std::string(kExampleVersionOf010)));
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

// ---- the burst filter over the store ------------------------------------------------

// Everything a partition has stored: entities (due + bytes) and offsets.
std::map<std::string, std::string> Dump(const store::StateStore& store, int32_t partition) {
  std::map<std::string, std::string> out;
  EXPECT_TRUE(store
                  .ForEachEntity(partition,
                                 [&](engine::EntityKind kind, std::string_view id, const store::StoredEntity& e) {
                                   out[(kind == engine::EntityKind::kLead ? "L/" : "A/") + std::string(id)] =
                                       std::to_string(e.due_ms) + ":" + e.bytes;
                                 })
                  .ok());
  auto meta = store.Load(partition);
  EXPECT_TRUE(meta.ok());
  for (const auto& [topic, offset] : meta->offsets) out["O/" + topic] = std::to_string(offset);
  out["M/stream_time"] = std::to_string(meta->stream_time_ms);
  return out;
}

// Suppression over the store: the lead and its account, suppressed by a won outcome,
// are evicted with the commit; the store's timer index brings them back when the
// suppression ends, not a millisecond before, and they leave it then.
TEST_F(PartitionTaskTest, ASuppressedEntityEvictedToTheStoreComesBackWhenItsSuppressionEnds) {
  model_ = MustLoad(std::string(kTestModel) + "feedback:\n  suppress: { CLOSED_WON: 30d }\n");
  stream::TaskOptions options;
  options.cache_entities = 0;  // every clean entity is evicted after a commit
  stream::PartitionTask task(3, model_, options, store_.get());
  ASSERT_TRUE(task.Resume().ok());
  const std::vector<std::string> input = {
      R"({"account":{"account_id":"a1","updated_at_ms":"1","industry":"software"}})",
      R"({"lead":{"lead_id":"l1","account_id":"a1","updated_at_ms":"1","seniority":"vp"}})",
      EventJson("e1", "l1", "a1", "demo", kT0),
      R"({"outcome":{"lead_id":"l1","account_id":"a1","kind":"CLOSED_WON","occurred_at_ms":")" +
          std::to_string(kT0) + "\"}}"};
  std::vector<stream::InputRecord> records;
  for (size_t i = 0; i < input.size(); ++i) records.push_back(Record(input[i], static_cast<int64_t>(i), "a1"));
  stream::BatchOutcome out;
  ASSERT_TRUE(task.Process(records, kT0, &out).ok());
  ASSERT_TRUE(out.refused.empty()) << out.refused[0].error;
  ASSERT_FALSE(out.events.empty());
  EXPECT_EQ(out.events.back().to_tier, "suppressed");
  ASSERT_TRUE(task.Commit({{"events", 4}}, out.events).ok());
  EXPECT_EQ(task.engine().loaded_leads() + task.engine().loaded_accounts(), 0u) << "evicted to the store";

  const int64_t until = kT0 + 30 * kDay;
  out.Clear();
  ASSERT_TRUE(task.Process({}, until - 1, &out).ok());
  EXPECT_TRUE(out.events.empty());
  ASSERT_TRUE(task.Commit({}, out.events).ok());
  out.Clear();
  ASSERT_TRUE(task.Process({}, until, &out).ok());
  ASSERT_EQ(out.events.size(), 2u) << "the lead and the account, loaded back by their due time";
  for (const auto& ev : out.events) {
    EXPECT_EQ(ev.from_tier, "suppressed");
    EXPECT_EQ(ev.direction, engine::Direction::kUp);
    EXPECT_EQ(ev.occurred_at_ms, until);
  }
}

// A batch whose leads and accounts were all evicted reads them back together, with one
// MultiGet and no read alone, and scores as a task that never evicted them does; a batch
// of new ids reads each once.
TEST_F(PartitionTaskTest, ABatchReadsTheEntitiesItNamesTogetherAndScoresAsIfTheyHadStayed) {
  const std::string kept_dir = dir_ + "-kept";
  std::filesystem::remove_all(kept_dir);
  auto kept_store = store::StateStore::Open({.dir = kept_dir});
  ASSERT_TRUE(kept_store.ok()) << kept_store.status().message();
  stream::TaskOptions evicting;
  evicting.cache_entities = 0;  // every clean entity is evicted after a commit
  stream::PartitionTask task(3, model_, evicting, store_.get());
  stream::PartitionTask kept(3, model_, stream::TaskOptions{}, kept_store->get());
  ASSERT_TRUE(task.Resume().ok());
  ASSERT_TRUE(kept.Resume().ok());
  // (value, key: its account)
  auto batch = [](const std::vector<std::pair<std::string, std::string>>& values, int64_t first_offset) {
    std::vector<stream::InputRecord> records;
    for (size_t i = 0; i < values.size(); ++i) {
      records.push_back(Record(values[i].first, first_offset + static_cast<int64_t>(i), values[i].second));
    }
    return records;
  };
  const std::vector<std::pair<std::string, std::string>> first_values = {
      {R"({"account":{"account_id":"a1","updated_at_ms":"1","industry":"software"}})", "a1"},
      {R"({"account":{"account_id":"a2","updated_at_ms":"1","industry":"retail"}})", "a2"},
      {R"({"lead":{"lead_id":"l1","account_id":"a1","updated_at_ms":"1","seniority":"vp"}})", "a1"},
      {R"({"lead":{"lead_id":"l2","account_id":"a1","updated_at_ms":"1","role":"buyer"}})", "a1"},
      {R"({"lead":{"lead_id":"l3","account_id":"a2","updated_at_ms":"1"}})", "a2"},
      {EventJson("e1", "l1", "a1", "view", kT0), "a1"}};
  const std::vector<std::pair<std::string, std::string>> second_values = {
      {EventJson("e2", "l1", "a1", "demo", kT0 + kHour), "a1"},
      {EventJson("e3", "l2", "a1", "demo", kT0 + kHour), "a1"},
      {EventJson("e4", "l3", "a2", "demo", kT0 + kHour), "a2"}};
  const auto first = batch(first_values, 0);
  const auto second = batch(second_values, 6);
  std::vector<std::vector<engine::RoutingEvent>> routed(2);
  const store::StateStore::Stats empty = store_->ReadStats();
  for (stream::PartitionTask* t : {&task, &kept}) {
    stream::BatchOutcome out;
    ASSERT_TRUE(t->Process(first, kT0, &out).ok());
    ASSERT_TRUE(out.refused.empty()) << out.refused[0].error;
    ASSERT_TRUE(t->Commit({{"events", 6}}, out.events).ok());
  }
  EXPECT_EQ(store_->ReadStats().keys_read_alone, empty.keys_read_alone)
      << "a new id named again in its batch is not read again";
  EXPECT_EQ(store_->ReadStats().keys_read_together - empty.keys_read_together, 5u) << "each new id looked up once";
  EXPECT_EQ(task.engine().loaded_leads() + task.engine().loaded_accounts(), 0u) << "evicted to the store";
  const store::StateStore::Stats before = store_->ReadStats();
  for (stream::PartitionTask* t : {&task, &kept}) {
    stream::BatchOutcome out;
    ASSERT_TRUE(t->Process(second, kT0 + kHour, &out).ok());
    EXPECT_EQ(out.count(engine::ApplyOutcome::kApplied), 3u);
    routed[t == &task ? 0 : 1] = out.events;
  }
  const store::StateStore::Stats after = store_->ReadStats();
  EXPECT_EQ(after.keys_read_alone, before.keys_read_alone) << "no entity read on its own";
  EXPECT_EQ(after.keys_read_together - before.keys_read_together, 5u) << "a1, a2, l1, l2 and l3 read together, once";
  EXPECT_EQ(task.engine().loaded_leads(), 3u);
  EXPECT_EQ(task.engine().loaded_accounts(), 2u);
  ASSERT_FALSE(routed[1].empty()) << "the demos move tiers";
  ASSERT_EQ(routed[0].size(), routed[1].size());
  for (size_t i = 0; i < routed[0].size(); ++i) {
    EXPECT_EQ(routed[0][i].lead_id, routed[1][i].lead_id) << i;
    EXPECT_EQ(routed[0][i].account_id, routed[1][i].account_id) << i;
    EXPECT_EQ(routed[0][i].to_tier, routed[1][i].to_tier) << i;
    EXPECT_EQ(routed[0][i].score, routed[1][i].score) << i;
  }
  kept_store->reset();
  std::filesystem::remove_all(kept_dir);
}

// Account a1 (software: leads at score 25 + intent / 2) and three leads; a scanner that
// clicks the 7 links of a mail to all three in 150 ms; then, ten minutes later, one of
// them reads the mail and books a demo.
std::vector<std::string> ScannerInput() {
  std::vector<std::string> v = {
      R"({"account":{"account_id":"a1","updated_at_ms":"1","industry":"software","country":"NL"}})"};
  for (const char* l : {"l1", "l2", "l3"}) {
    v.push_back(std::string(R"({"lead":{"lead_id":")") + l + R"(","account_id":"a1","updated_at_ms":"1"}})");
  }
  for (int i = 0; i < 21; ++i) {
    v.push_back(EventJson("scan" + std::to_string(i), "l" + std::to_string(1 + i % 3), "a1", "view", kT0 + i * 7));
  }
  v.push_back(EventJson("person", "l1", "a1", "demo", kT0 + 10 * kMin));
  return v;
}

class BurstOverStoreTest : public PartitionTaskTest {
 protected:
  void SetUp() override {
    PartitionTaskTest::SetUp();
    model_ = MustLoad(FilterModel());
  }
  void TearDown() override {
    PartitionTaskTest::TearDown();
    for (const auto& d : extra_dirs_) std::filesystem::remove_all(d);
  }
  // A store of its own (for the run to compare with).
  std::unique_ptr<store::StateStore> OpenStore(const std::string& name) {
    const std::string dir = dir_ + "-" + name;
    std::filesystem::remove_all(dir);
    extra_dirs_.push_back(dir);
    auto s = store::StateStore::Open({.dir = dir});
    EXPECT_TRUE(s.ok());
    return s.ok() ? std::move(*s) : nullptr;
  }
  std::unique_ptr<stream::PartitionTask> TaskOn(store::StateStore* store) {
    auto t = std::make_unique<stream::PartitionTask>(3, model_, stream::TaskOptions{}, store);
    EXPECT_TRUE(t->Resume().ok());
    return t;
  }
  // Records [from, to) of `input` as one batch at the service's clock `now` (none: as in
  // `run --no-clock`, the records move stream time), committed
  // (or not) with the offsets after them; what it emitted and counted is added up.
  void Batch(stream::PartitionTask& task, const std::vector<std::string>& input, size_t from, size_t to,
             std::optional<int64_t> now,
             bool commit = true) {
    std::vector<stream::InputRecord> records;
    for (size_t i = from; i < to; ++i) records.push_back(Record(input[i], static_cast<int64_t>(i), "a1"));
    stream::BatchOutcome out;
    ASSERT_TRUE(task.Process(records, now, &out).ok());
    ASSERT_TRUE(out.refused.empty());
    if (!commit) return;
    ASSERT_TRUE(task.Commit({{"events", static_cast<int64_t>(to)}}, out.events).ok());
    for (const auto& ev : out.events) {
      routed_.push_back(ev.routing_id + " " + (ev.lead_id.empty() ? ev.account_id : ev.lead_id) + " " + ev.to_tier);
    }
    totals_.AddCounts(out);
  }
  std::vector<std::string> routed_;
  stream::BatchOutcome totals_;
  std::vector<std::string> extra_dirs_;
};

// The same records in one batch, or split anywhere (the burst across batches, each
// committed), give the same routing events and the same stored state byte for byte,
// and replay's way (no store, no clock) the same routing event: the burst is dropped,
// the person's demo routes 2 s after it.
TEST_F(BurstOverStoreTest, ABurstSplitAcrossBatchesIsDroppedWholeAndThePersonRoutes) {
  const auto input = ScannerInput();
  const std::optional<int64_t> clock;  // no clock (as the crash test's run --no-clock): events move stream time
  auto reference_store = OpenStore("reference");
  auto reference = TaskOn(reference_store.get());
  Batch(*reference, input, 0, input.size(), clock);
  Batch(*reference, input, input.size(), input.size(), kT0 + 10 * kMin + 2 * kSec);  // the clock moves on
  const auto one_batch = routed_;
  ASSERT_EQ(one_batch.size(), 1u);
  EXPECT_THAT(one_batch[0], ::testing::EndsWith(" l1 warm"));
  EXPECT_EQ(totals_.filtered[kMailScanner], 21u);
  EXPECT_EQ(totals_.released, 1u);
  const auto reference_state = Dump(*reference_store, 3);

  routed_.clear();
  totals_.Clear();
  auto task = TaskOn(store_.get());
  Batch(*task, input, 0, 9, clock);     // profiles and the first 5 clicks
  Batch(*task, input, 9, 17, clock);    // 8 more
  Batch(*task, input, 17, 25, clock);   // the last 8: the runs are still open
  EXPECT_EQ(task->ViewLead("l1")->held_events, 7) << "committed with the lead";
  Batch(*task, input, 25, 26, clock);   // the demo, ten minutes on: the scanner's runs end
  EXPECT_EQ(totals_.filtered[kMailScanner], 21u);
  Batch(*task, input, 26, 26, kT0 + 10 * kMin + 2 * kSec);
  EXPECT_EQ(routed_, one_batch);
  EXPECT_EQ(totals_.released, 1u);
  EXPECT_EQ(Dump(*store_, 3), reference_state);

  // And `replay`'s way: no store, no clock (only the records move stream time), then
  // --until: the same routing event.
  routed_.clear();
  stream::TaskOptions replay_options;
  replay_options.require_key = false;
  stream::PartitionTask replay(0, model_, replay_options, nullptr);
  std::vector<stream::InputRecord> records;
  for (const auto& v : input) records.push_back({"replay", codec::Format::kJson, -1, std::nullopt, v});
  stream::BatchOutcome out;
  ASSERT_TRUE(replay.Process(records, std::nullopt, &out).ok());
  replay.AdvanceTo(kT0 + 10 * kMin + 2 * kSec, &out);
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(out.events[0].routing_id + " l1 warm", one_batch[0]);
}

// A crash while events are held: the batch that was scored and not committed is read
// again by the next task, which finds the held events of the committed ones in the
// store. The result is the uninterrupted run's, byte for byte.
TEST_F(BurstOverStoreTest, ACrashWhileEventsAreHeldLosesNothingAndRepeatsNothing) {
  const auto input = ScannerInput();
  auto reference_store = OpenStore("reference");
  auto reference = TaskOn(reference_store.get());
  Batch(*reference, input, 0, 14, std::nullopt);
  Batch(*reference, input, 14, input.size(), std::nullopt);
  Batch(*reference, input, input.size(), input.size(), kT0 + 10 * kMin + 2 * kSec);
  const auto uninterrupted = routed_;
  const auto reference_state = Dump(*reference_store, 3);

  routed_.clear();
  auto task = TaskOn(store_.get());
  Batch(*task, input, 0, 14, std::nullopt);
  Batch(*task, input, 14, input.size(), std::nullopt, /*commit=*/false);  // scored, then the process dies
  task.reset();

  auto resumed = std::make_unique<stream::PartitionTask>(3, model_, stream::TaskOptions{}, store_.get());
  auto offsets = resumed->Resume();
  ASSERT_TRUE(offsets.ok());
  ASSERT_EQ(offsets->at("events"), 14) << "the uncommitted batch is read again";
  EXPECT_EQ(resumed->ViewLead("l1")->held_events, 4) << "l1's clicks of the committed batch are held, from the store";
  Batch(*resumed, input, 14, input.size(), std::nullopt);
  Batch(*resumed, input, input.size(), input.size(), kT0 + 10 * kMin + 2 * kSec);
  EXPECT_EQ(routed_, uninterrupted);
  EXPECT_EQ(Dump(*store_, 3), reference_state);
}

// The hot set: a lead with held events can be evicted; the timer index brings it back
// when its run ends.
TEST_F(BurstOverStoreTest, AnEvictedLeadComesBackWhenItsRunEnds) {
  const auto input = ScannerInput();
  stream::TaskOptions options;
  options.cache_entities = 0;  // evict everything after every commit
  stream::PartitionTask task(3, model_, options, store_.get());
  ASSERT_TRUE(task.Resume().ok());
  Batch(task, input, 0, 25, std::nullopt);
  EXPECT_EQ(task.loaded_leads(), 0u);
  Batch(task, input, 25, 26, std::nullopt);
  EXPECT_EQ(totals_.filtered[kMailScanner], 21u) << "loaded by the timer index when the runs ended";
  Batch(task, input, 26, 26, kT0 + 10 * kMin + 2 * kSec);
  ASSERT_EQ(routed_.size(), 1u);
  EXPECT_THAT(routed_[0], ::testing::EndsWith(" l1 warm"));
}

// A lead adopted from another partition can arrive with a held run that already ended
// there: its old partition's clock was behind the run's end, the adopting partition's
// stream time is past it. Its check is then due before the adopting partition's stream
// time and has not fired; with cache_entities 0 the commit evicts the lead, and its key
// in the timer index lies before stream time. The next scan must still start at or
// before that key (the engine's earliest check, not stream time + 1), or the run never
// ends: its held events are never scored. Partition 0's clock stays at kT0 (the run of
// two events ends at kT0 + 2 s), partition 1's is an hour on.
TEST_F(BurstOverStoreTest, AnAdoptedLeadWhoseRunEndedBeforeItArrivedIsScoredAfterItIsEvicted) {
  constexpr const char* kRepartition = "rp";
  auto options = [&](size_t cache_entities) {
    stream::TaskOptions o;
    o.require_key = false;
    o.handoff_topic = kRepartition;
    o.partitions = 2;
    o.cache_entities = cache_entities;
    return o;
  };
  auto old_store = OpenStore("p0");
  stream::PartitionTask old_home(0, model_, options(SIZE_MAX), old_store.get());
  stream::PartitionTask new_home(1, model_, options(0), store_.get());  // evicts everything after every commit
  ASSERT_TRUE(old_home.Resume().ok());
  ASSERT_TRUE(new_home.Resume().ok());
  std::deque<std::pair<int32_t, std::string>> handoffs;  // (to partition, record), as sent
  // One batch of `task` at clock `now`, committed; the handoffs it sends are queued.
  auto run = [&](stream::PartitionTask& task, const std::vector<stream::InputRecord>& records, int64_t now) {
    stream::BatchOutcome out;
    EXPECT_TRUE(task.Process(records, now, &out).ok());
    EXPECT_TRUE(out.refused.empty()) << out.refused[0].error;
    EXPECT_TRUE(task.Commit({}, out.events).ok());
    for (const auto& r : task.outbox().Unproduced()) {
      if (r.handoff_partition() >= 0) handoffs.push_back({r.handoff_partition(), r.value});
    }
    task.outbox().MarkProduced();
    return out;
  };
  auto json = [](const std::string& value) {
    return stream::InputRecord{"events", codec::Format::kJson, -1, std::nullopt, value};
  };
  stream::PartitionTask* tasks[] = {&old_home, &new_home};
  const int64_t clock[] = {kT0, kT0 + kHour};
  // Delivers the queued handoffs (and those they cause) at each partition's clock; what
  // the adopting partition did is added up.
  stream::BatchOutcome adopted;
  auto deliver = [&] {
    while (!handoffs.empty()) {
      auto [to, value] = handoffs.front();
      handoffs.pop_front();
      const stream::InputRecord record{kRepartition, codec::Format::kProtobuf, -1, std::nullopt, value};
      const stream::BatchOutcome out = run(*tasks[to], {record}, clock[to]);
      if (to == 1) adopted.AddCounts(out);
    }
  };

  const std::vector<std::string> before_move = {
      R"({"account":{"account_id":"a","updated_at_ms":"1","industry":"software"}})",
      R"({"lead":{"lead_id":"L","account_id":"a","updated_at_ms":"1","seniority":"vp"}})",
      // A run of two events (the burst is 4): scored when it ends, at kT0 + 2 s.
      EventJson("e1", "L", "a", "demo", kT0), EventJson("e2", "L", "a", "view", kT0)};
  std::vector<stream::InputRecord> records;
  for (const auto& v : before_move) records.push_back(json(v));
  run(old_home, records, clock[0]);
  deliver();  // L's claim as a new lead: partition 1 does not hold it
  ASSERT_EQ(old_home.ViewLead("L")->held_events, 2);

  const std::string b = R"({"account":{"account_id":"b","updated_at_ms":"1","industry":"software"}})";
  const std::string move = R"({"lead":{"lead_id":"L","account_id":"b","updated_at_ms":")" +
                           std::to_string(kT0 + kHour) + R"(","seniority":"vp"}})";
  run(new_home, {json(b), json(move)}, clock[1]);
  deliver();  // the claim, partition 0's release at kT0 (its clock), the transfer
  ASSERT_EQ(adopted.leads_adopted, 1u);
  EXPECT_FALSE(old_home.ViewLead("L").has_value());
  EXPECT_EQ(adopted.released, 0u) << "the run ended before the lead arrived: nothing has ended it here yet";
  EXPECT_EQ(new_home.loaded_leads(), 0u) << "evicted with the commit";
  const auto stored = store_->Get(1, engine::EntityKind::kLead, "L");
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((*stored)->due_ms, kT0 + 2 * kSec) << "its check in the timer index: the run's end, before stream time";
  EXPECT_EQ(new_home.stream_time(), kT0 + kHour);
  EXPECT_EQ(new_home.ViewLead("L")->held_events, 2);

  // A batch with nothing for L: only the timer index brings it back.
  const stream::BatchOutcome later = run(new_home, {}, clock[1] + kSec);
  EXPECT_EQ(later.released, 2u) << "the timer index did not bring the adopted lead back";
  const auto l = new_home.ViewLead("L");
  ASSERT_TRUE(l.has_value());
  EXPECT_EQ(l->held_events, 0);
  EXPECT_GT(l->intent, 0) << "its demo and view are scored";
}

// An event stamped ahead of the service's clock (a producer whose clock runs fast, within
// max_future_skew) is taken at the clock: the partition's stream time does not jump, so
// no other entity decays early. It failed before: stream time went to the event's time.
TEST_F(PartitionTaskTest, AnEventFromAClockAheadDoesNotDecayItsNeighboursEarly) {
  auto task = NewTask();
  ASSERT_TRUE(task->Resume().ok());
  stream::BatchOutcome out;
  const std::string y = EventJson("e1", "y", "a1", "demo", kT0);
  std::vector<stream::InputRecord> first = {Record(y, 1, "a1")};
  ASSERT_TRUE(task->Process(first, kT0, &out).ok());
  ASSERT_TRUE(task->Commit({{"events", 2}}, out.events).ok());
  const double y_before = task->ViewLead("y")->intent;

  const std::string x = EventJson("e2", "x", "a1", "view", kT0 + 50 * kMin);  // 50 min ahead of the clock
  std::vector<stream::InputRecord> second = {Record(x, 2, "a1")};
  out.Clear();
  ASSERT_TRUE(task->Process(second, kT0, &out).ok());
  EXPECT_TRUE(out.refused.empty()) << "within max_future_skew: not a dead letter";
  ASSERT_TRUE(task->Commit({{"events", 3}}, out.events).ok());
  EXPECT_EQ(task->stream_time(), kT0) << "stream time stayed at the clock";
  EXPECT_DOUBLE_EQ(task->ViewLead("y")->intent, y_before) << "its neighbour did not decay";
  const auto xv = task->ViewLead("x");
  ASSERT_TRUE(xv.has_value());
  EXPECT_DOUBLE_EQ(xv->intent, 10) << "scored as happening now, at full points";
  ASSERT_FALSE(xv->factors.empty());
  EXPECT_EQ(xv->factors[0].last_at_ms, kT0);
}

// A Forget for a lead the task has not loaded (after a restart, or evicted from the hot
// set) erases it from the store all the same. It failed before: the decoder looked the id
// up among the loaded ones, found nothing, and the Forget did nothing.
TEST_F(PartitionTaskTest, AForgetOfALeadNotInMemoryErasesItFromTheStore) {
  {
    auto task = NewTask();
    ASSERT_TRUE(task->Resume().ok());
    const std::string e1 = EventJson("e1", "l1", "a1", "demo", kT0), e2 = EventJson("e2", "l2", "a1", "view", kT0);
    std::vector<stream::InputRecord> batch = {Record(e1, 1, "a1"), Record(e2, 2, "a1")};
    stream::BatchOutcome out;
    ASSERT_TRUE(task->Process(batch, kT0, &out).ok());
    ASSERT_TRUE(out.refused.empty()) << out.refused[0].error;
    ASSERT_EQ(out.count(engine::ApplyOutcome::kApplied), 2u);
    ASSERT_TRUE(task->Commit({{"events", 3}}, out.events).ok());
  }
  auto task = NewTask();  // a restart: nothing in memory
  ASSERT_TRUE(task->Resume().ok());
  {
    std::vector<std::string> before;
    ASSERT_TRUE(store_->ForEachEntity(3, [&](engine::EntityKind kind, std::string_view id, const store::StoredEntity&) {
      if (kind == engine::EntityKind::kLead) before.emplace_back(id);
    }).ok());
    ASSERT_EQ(before, (std::vector<std::string>{"l1", "l2"}));
  }
  const std::string forget = R"({"forget":{"lead_id":"l1","account_id":"a1"}})";
  std::vector<stream::InputRecord> batch = {Record(forget, 3, "a1")};
  stream::BatchOutcome out;
  ASSERT_TRUE(task->Process(batch, kT0, &out).ok());
  ASSERT_TRUE(task->Commit({{"events", 4}}, out.events).ok());
  std::vector<std::string> leads;
  ASSERT_TRUE(store_->ForEachEntity(3, [&](engine::EntityKind kind, std::string_view id, const store::StoredEntity&) {
    if (kind == engine::EntityKind::kLead) leads.emplace_back(id);
  }).ok());
  EXPECT_EQ(leads, std::vector<std::string>{"l2"});
  EXPECT_FALSE(task->ViewLead("l1").has_value());
  EXPECT_EQ(task->ViewAccount("a1")->lead_count, 1);
}

// A batch with a handoff record (another partition's claim: one record, one input per
// lead claimed) before a sales outcome: the outcome is joined as its own record.
TEST_F(PartitionTaskTest, AnOutcomeAfterAHandoffInOneBatchIsJoinedAsItsOwnRecord) {
  stream::TaskOptions o;
  o.handoff_topic = "rp";
  o.partitions = 4;
  auto task = std::make_unique<stream::PartitionTask>(3, model_, o, store_.get());
  ASSERT_TRUE(task->Resume().ok());
  const engine::Handoff claims[] = {{engine::Handoff::Kind::kClaim, "x1", -1, {}, kT0},
                                    {engine::Handoff::Kind::kClaim, "x2", -1, {}, kT0}};
  const std::string claim = codec::EncodeHandoff(1, 1, claims);
  const std::string outcome =
      R"({"outcome":{"routing_id":"","lead_id":"l1","account_id":"a1","kind":"ACCEPTED","occurred_at_ms":")" +
      std::to_string(kT0) + "\"}}";
  std::vector<stream::InputRecord> batch = {{"rp", codec::Format::kProtobuf, 0, "x1", claim}, Record(outcome, 1, "a1")};
  stream::BatchOutcome out;
  ASSERT_TRUE(task->Process(batch, kT0, &out).ok());
  EXPECT_TRUE(out.refused.empty());
  EXPECT_EQ(out.handoffs, 1u);
  ASSERT_EQ(out.joined.size(), 1u);
  EXPECT_EQ(out.joined[0].tier, "unmatched");
  EXPECT_EQ(out.count(engine::ApplyOutcome::kApplied), 1u) << "the outcome; the claims are not inputs";
  ASSERT_TRUE(task->Commit({{"events", 2}, {"rp", 1}}, out.events).ok());
}

// Merged writes (stream/task_batch.h PendingCommits): batches processed one after another
// and committed together write an entity once, exactly what one batch of all their
// records writes, and commit the state, offsets and outbox that a commit per batch gives.
class MergedWritesTest : public ::testing::Test {
 protected:
  struct Side {
    std::unique_ptr<store::StateStore> store;
    std::shared_ptr<stream::PartitionTask> task;
  };
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/leadscore-merged-test-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    model_ = MustLoad(kTestModel);
    records_.push_back(R"({"account":{"account_id":"a1","updated_at_ms":"1","industry":"software"}})");
    records_.push_back(R"({"lead":{"lead_id":"l1","account_id":"a1","updated_at_ms":"1","seniority":"vp"}})");
    for (int i = 0; i < 20; ++i) {
      records_.push_back(EventJson("e" + std::to_string(i), "l1", "a1", i % 5 == 4 ? "demo" : "view", kT0 + i * kMin));
    }
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  Side Open(const std::string& name) {
    Side s;
    auto store = store::StateStore::Open({.dir = dir_ + "/" + name});
    EXPECT_TRUE(store.ok()) << store.status().message();
    s.store = std::move(*store);
    s.task = std::make_shared<stream::PartitionTask>(0, model_, stream::TaskOptions{}, s.store.get());
    EXPECT_TRUE(s.task->Resume().ok());
    return s;
  }
  // Records [from, to) as one batch's work for `task` (no clock: the events move time).
  stream::TaskWork Work(const std::shared_ptr<stream::PartitionTask>& task, size_t from, size_t to) {
    stream::TaskWork w{.task = task};
    for (size_t i = from; i < to; ++i) w.records.push_back({"events", codec::Format::kJson, static_cast<int64_t>(i), "a1", records_[i]});
    w.next_offsets["events"] = static_cast<int64_t>(to);
    return w;
  }
  // The committed outbox: each record's routing id, key and its bytes from the routing id
  // on (what comes before includes the wall time it was made at).
  static std::vector<std::string> Outbox(store::StateStore& store) {
    std::vector<std::string> records;
    auto state = store.Load(0);
    EXPECT_TRUE(state.ok());
    if (!state.ok()) return records;
    for (const auto& r : state->outbox) {
      const size_t at = r.value.find(r.id);
      EXPECT_NE(at, std::string::npos);
      records.push_back(r.id + " " + r.key + " " + (at == std::string::npos ? r.value : r.value.substr(at)));
    }
    return records;
  }

  std::string dir_;
  std::shared_ptr<const model::Model> model_;
  std::vector<std::string> records_;
  stream::WorkerPool pool_{2};
};

TEST_F(MergedWritesTest, ManyBatchesForOneLeadInAnIntervalWriteItOnceAndCommitWhatACommitPerBatchCommits) {
  Side each = Open("each"), merged = Open("merged"), one = Open("one");
  // A commit per batch of one record (commit_interval_ms 0).
  for (size_t i = 0; i < records_.size(); ++i) {
    std::vector<stream::TaskWork> work{Work(each.task, i, i + 1)};
    ASSERT_TRUE(stream::ProcessAll(pool_, work, std::nullopt).ok());
    ASSERT_TRUE(stream::CommitAll(pool_, work).ok());
  }
  // The same batches merged: processed one after another, one commit.
  stream::PendingCommits pending;
  for (size_t i = 0; i < records_.size(); ++i) {
    std::vector<stream::TaskWork> work{Work(merged.task, i, i + 1)};
    ASSERT_TRUE(stream::ProcessAll(pool_, work, std::nullopt).ok());
    pending.Add(work);
  }
  EXPECT_EQ(pending.batches(), records_.size());
  EXPECT_EQ(pending.records(), records_.size());
  EXPECT_EQ(merged.store->Written().keys, 0u) << "nothing is written before the interval's commit";
  EXPECT_FALSE(merged.task->ViewLead("l1").has_value()) << "views show committed state only";
  EXPECT_TRUE(merged.task->outbox().empty()) << "routing events leave after their commit";
  ASSERT_TRUE(pending.CommitAll(pool_).ok());
  EXPECT_TRUE(pending.empty());
  const std::vector<stream::BatchOutcome> committed = pending.TakeCommitted();
  ASSERT_EQ(committed.size(), records_.size()) << "every batch's outcome, for the metrics";
  // All of it as one batch.
  {
    std::vector<stream::TaskWork> work{Work(one.task, 0, records_.size())};
    ASSERT_TRUE(stream::ProcessAll(pool_, work, std::nullopt).ok());
    ASSERT_TRUE(stream::CommitAll(pool_, work).ok());
  }

  const auto w_each = each.store->Written(), w_merged = merged.store->Written(), w_one = one.store->Written();
  EXPECT_EQ(w_merged.keys, w_one.keys) << "20 events of one lead in an interval: the lead written once";
  EXPECT_EQ(w_merged.bytes, w_one.bytes);
  EXPECT_GT(w_each.keys, 5 * w_merged.keys) << "a commit per batch writes the lead, account and offsets every time";

  // The same committed state, offsets and outbox as a commit per batch.
  auto a = each.store->Load(0), b = merged.store->Load(0);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(b->offsets, a->offsets);
  EXPECT_EQ(b->offsets.at("events"), static_cast<int64_t>(records_.size()));
  EXPECT_EQ(b->stream_time_ms, a->stream_time_ms);
  EXPECT_EQ(Outbox(*merged.store), Outbox(*each.store));
  EXPECT_FALSE(Outbox(*merged.store).empty()) << "the demos route l1";
  for (auto kind : {engine::EntityKind::kLead, engine::EntityKind::kAccount}) {
    const std::string id = kind == engine::EntityKind::kLead ? "l1" : "a1";
    auto x = each.store->Get(0, kind, id), y = merged.store->Get(0, kind, id);
    ASSERT_TRUE(x.ok() && y.ok() && x->has_value() && y->has_value()) << id;
    EXPECT_EQ((*y)->bytes, (*x)->bytes) << id << ": the same entity bytes";
  }
  EXPECT_EQ(merged.task->ViewLead("l1")->tier, each.task->ViewLead("l1")->tier);
  EXPECT_EQ(merged.task->ViewLead("l1")->score, each.task->ViewLead("l1")->score);
}

}  // namespace
}  // namespace leadscore::testing
