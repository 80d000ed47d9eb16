// `leadscore rebuild` on the embedded broker: a story produced as protobuf, a state built
// under one model, rebuilt under a model with another half-life and switched to; the
// rebuild equals a replay of the story under the new model, its offsets are at the
// inputs' ends and its outbox holds only the tier changes against the live state. With
// the changelog on, the switch reseeds it: the service on the switched state, a fresh
// instance restoring from the changelog and the old state restarted after a kill between
// the reseed and the rename all end in the rebuilt state, and the CRM is told each tier
// change once. Refusals: retention dropped the beginning of an input, the live state held
// by another process (then --switch), bad flags.
#include "cli/rebuild.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli/progress_bar.h"
#include "cli/replay_loop.h"
#include "codec/codec.h"
#include "config/config.h"
#include "engine/engine.h"
#include "model/model.h"
#include "store/state_store.h"
#include "stream/embedded_broker.h"
#include "stream/partition_task.h"

namespace leadscore::cli {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

const std::string kDir = LEADSCORE_SOURCE_DIR;
const std::string kBinary = LEADSCORE_BINARY;

class Producer {
 public:
  explicit Producer(const std::string& bootstrap) {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    char err[512];
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), err, sizeof err);
    rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    EXPECT_NE(rk_, nullptr) << err;
  }
  ~Producer() { rd_kafka_destroy(rk_); }
  void Send(const std::string& topic, const std::string& key, const std::string& value, int64_t timestamp_ms) {
    auto e = rd_kafka_producev(rk_, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_KEY(key.data(), key.size()),
                               RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                               RD_KAFKA_V_TIMESTAMP(timestamp_ms), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                               RD_KAFKA_V_END);
    ASSERT_EQ(e, RD_KAFKA_RESP_ERR_NO_ERROR) << rd_kafka_err2str(e);
  }
  void Flush() { ASSERT_EQ(rd_kafka_flush(rk_, 30000), RD_KAFKA_RESP_ERR_NO_ERROR); }

 private:
  rd_kafka_t* rk_ = nullptr;
};

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);)
    if (!l.empty()) out.push_back(l);
  return out;
}

std::shared_ptr<const model::Model> MustLoad(const std::string& path) {
  auto loaded = model::LoadModelFromFile(path);
  EXPECT_TRUE(loaded.ok()) << loaded.ErrorText();
  return loaded.model;
}

int ExitCode(const std::string& args) {
  const int status = std::system((kBinary + " " + args + " >/dev/null 2>&1").c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

class RebuildTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // One partition: the rebuilt partition and replay's one task see the same timeline.
    auto b = stream::EmbeddedBroker::Start(
        {.partitions = 1,
         .topics = {"engagement-events", "profiles", "sales-outcomes", "routing-events", "leadscore-dlq",
                    "rebuild-test-state", "rebuild-test-repartition"}});
    ASSERT_TRUE(b.ok()) << b.status().message();
    broker_ = std::move(*b);
    dir_ = fs::temp_directory_path() /
           ("leadscore-rebuild-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    old_model_ = kDir + "/examples/model.yaml";
    new_model_ = (dir_ / "new.yaml").string();
    std::string text = ReadText(old_model_);
    const std::string from = "pricing_page_view:     { points: 15, half_life: 7d,";
    const auto at = text.find(from);
    ASSERT_NE(at, std::string::npos);
    text.replace(at, from.size(), "pricing_page_view:     { points: 15, half_life: 3d,");
    std::ofstream(new_model_) << text;
    WriteConfig("changelog: false");
  }
  void TearDown() override { fs::remove_all(dir_); }

  void WriteConfig(const std::string& state) {
    std::ofstream(dir_ / "leadscore.yaml") << "brokers: " << broker_->bootstrap() << "\n"
                                           << "group_id: rebuild-test\n"
                                           << "state_dir: " << (dir_ / "state").string() << "\n"
                                           << "http: { address: \"127.0.0.1:0\" }\n"
                                           << "kafka_consumer: { session.timeout.ms: 6000, heartbeat.interval.ms: 500 }\n"
                                           << "state:\n  " << state << "\n";
  }
  std::string StateDir() const { return (dir_ / "state").string(); }

  // The example story on engagement-events, keyed by account, one timestamp per line in
  // file order. Returns the lines.
  std::vector<std::string> ProduceStory() {
    const auto lines = Lines(ReadText(kDir + "/examples/events.jsonl"));
    Producer producer(broker_->bootstrap());
    int64_t ts = 1791190800000;
    for (const auto& line : lines) {
      auto bytes = codec::InputJsonToBinary(line);
      EXPECT_TRUE(bytes.ok()) << line;
      const auto j = nlohmann::json::parse(line);
      producer.Send("engagement-events", j.begin().value().value("account_id", ""), *bytes, ts++);
    }
    producer.Flush();
    return lines;
  }

  int Rebuild(const std::string& model, bool switch_only, std::string* err) {
    std::ostringstream e;
    const int code = RunRebuild(
        {.config_path = (dir_ / "leadscore.yaml").string(), .model_path = model, .switch_only = switch_only}, e,
        false);
    *err = e.str();
    return code;
  }

  std::unique_ptr<stream::EmbeddedBroker> broker_;
  fs::path dir_;
  std::string old_model_, new_model_;
};

std::vector<fs::path> BeforeRebuildDirs(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().filename().string().starts_with("state.before-rebuild-")) out.push_back(e.path());
  }
  return out;
}

// Two switches in one second (a rerun after a kill is that quick) each keep their live
// state aside under its own name: the second used to fail on the first's directory.
TEST(RebuildBackupTest, ASecondSwitchInTheSameSecondTakesTheNextFreeName) {
  const fs::path dir = fs::temp_directory_path() / ("leadscore-backup-name-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string state = (dir / "state").string();
  EXPECT_EQ(FreeBackupPath(state, 1796323432), state + ".before-rebuild-1796323432");
  fs::create_directories(state + ".before-rebuild-1796323432");
  EXPECT_EQ(FreeBackupPath(state, 1796323432), state + ".before-rebuild-1796323432-2");
  fs::create_directories(state + ".before-rebuild-1796323432-2");
  EXPECT_EQ(FreeBackupPath(state, 1796323432), state + ".before-rebuild-1796323432-3");
  EXPECT_EQ(FreeBackupPath(state, 1796323433), state + ".before-rebuild-1796323433");
  fs::remove_all(dir);
}

TEST_F(RebuildTest, RebuiltStateEqualsAReplayUnderTheNewModel) {
  const auto story = ProduceStory();
  std::string err;
  ASSERT_EQ(Rebuild(old_model_, false, &err), 0) << err;  // the state under the old model
  EXPECT_THAT(err, HasSubstr("[##############################] 100%"));
  EXPECT_TRUE(BeforeRebuildDirs(dir_).empty()) << "no live state before: nothing to move aside";
  ASSERT_EQ(Rebuild(new_model_, false, &err), 0) << err;
  EXPECT_EQ(BeforeRebuildDirs(dir_).size(), 1u) << "the old state is kept aside";
  EXPECT_FALSE(fs::exists(StateDir() + ".rebuild"));

  // Replay of the same story under the new model: one task, no store.
  auto model = MustLoad(new_model_);
  ASSERT_NE(model->version, MustLoad(old_model_)->version);
  stream::PartitionTask replayed(0, model, ReplayTaskOptions(engine::EngineOptions{}), nullptr);
  std::istringstream in(ReadText(kDir + "/examples/events.jsonl"));
  std::ostringstream replay_errors;
  uint64_t replay_events = 0;
  stream::BatchOutcome totals;
  RunReplayLoop(replayed, in, std::nullopt, replay_errors, [&](const engine::RoutingEvent&) { ++replay_events; },
                &totals);
  EXPECT_THAT(err, HasSubstr(std::to_string(replay_events) + " routing events of history not published"));

  const std::string old_version = MustLoad(old_model_)->version;
  {
    store::StoreOptions so;
    so.dir = StateDir();
    auto opened = store::StateStore::Open(so);
    ASSERT_TRUE(opened.ok()) << opened.status().message();
    auto state = (*opened)->Load(0);
    ASSERT_TRUE(state.ok());
    EXPECT_EQ(state->model_version, model->version);
    EXPECT_EQ(state->offsets["engagement-events"], static_cast<int64_t>(story.size())) << "offsets at the end";
    EXPECT_FALSE(state->reevaluation.has_value()) << "the announcement pass ran to its end";
    // History is not published: the outbox holds only the tier changes against the live
    // state, announced as a model change.
    for (const auto& r : state->outbox) {
      auto ev = codec::RoutingEventFromBinary(r.value);
      ASSERT_TRUE(ev.ok()) << ev.status().message();
      EXPECT_TRUE(ev->reason.starts_with("model " + old_version + " -> " + model->version)) << ev->reason;
    }
  }

  // What the switch took, before its announcements: a build of the same history under
  // the new model, compared with the replay.
  auto cfg = config::LoadConfigFromFile((dir_ / "leadscore.yaml").string());
  ASSERT_TRUE(cfg.ok()) << cfg.status().message();
  std::ostringstream progress;
  const std::string built_dir = (dir_ / "built").string();
  auto built = BuildState(model, cfg->service, built_dir, progress, false, 30000);
  ASSERT_TRUE(built.ok()) << built.status().message();
  EXPECT_EQ(built->routing_events, replay_events);
  store::StoreOptions so;
  so.dir = built_dir;
  auto opened = store::StateStore::Open(so);
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  auto& store = **opened;
  auto state = store.Load(0);
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->model_version, model->version);
  EXPECT_EQ(state->offsets["engagement-events"], static_cast<int64_t>(story.size())) << "offsets at the end";
  EXPECT_TRUE(state->outbox.empty()) << "history's routing events are not published";

  stream::TaskOptions options;
  stream::PartitionTask rebuilt(0, model, options, &store);
  auto resumed = rebuilt.Resume();
  ASSERT_TRUE(resumed.ok()) << resumed.status().message();
  EXPECT_TRUE(rebuilt.resume_reevaluation().to_version.empty()) << "built under the new model: no pass";
  std::set<std::string> leads, accounts;
  for (const auto& line : story) {
    const auto j = nlohmann::json::parse(line).begin().value();
    if (j.contains("lead_id")) leads.insert(j["lead_id"].get<std::string>());
    if (j.contains("account_id")) accounts.insert(j["account_id"].get<std::string>());
  }
  ASSERT_FALSE(leads.empty());
  auto same = [](const std::optional<engine::EntityView>& a, const std::optional<engine::EntityView>& b,
                 const std::string& id) {
    ASSERT_EQ(a.has_value(), b.has_value()) << id;
    if (!a) return;
    EXPECT_EQ(a->tier, b->tier) << id;
    EXPECT_EQ(a->grade, b->grade) << id;
    EXPECT_NEAR(a->score, b->score, 1e-9) << id;
    EXPECT_NEAR(a->intent, b->intent, 1e-9) << id;
    EXPECT_NEAR(a->fit, b->fit, 1e-9) << id;
    EXPECT_EQ(a->as_of_ms, b->as_of_ms) << id;
    EXPECT_EQ(a->recent_changes.size(), b->recent_changes.size()) << id;
  };
  for (const auto& id : leads) same(rebuilt.ViewLead(id), replayed.ViewLead(id), id);
  // The half-life change matters to this story: under the old model some score differs.
  stream::PartitionTask old_replay(0, MustLoad(old_model_), ReplayTaskOptions(engine::EngineOptions{}), nullptr);
  std::istringstream again(ReadText(kDir + "/examples/events.jsonl"));
  stream::BatchOutcome old_totals;
  RunReplayLoop(old_replay, again, std::nullopt, replay_errors, [](const engine::RoutingEvent&) {}, &old_totals);
  size_t differ = 0;
  for (const auto& id : leads) {
    const auto a = rebuilt.ViewLead(id), b = old_replay.ViewLead(id);
    if (a && b && std::abs(a->score - b->score) > 1e-6) ++differ;
  }
  EXPECT_GT(differ, 0u) << "the test would not tell the models apart";
  EXPECT_GT(replay_events, 0u);
  for (const auto& id : accounts) same(rebuilt.ViewAccount(id), replayed.ViewAccount(id), id);
}

// The service started on the switched state with the new model resumes from the rebuilt
// offsets: it publishes nothing of history, and scores what arrives next.
TEST_F(RebuildTest, TheServiceResumesFromTheRebuiltOffsetsAndPublishesNoHistory) {
  const auto story = ProduceStory();
  std::string err;
  ASSERT_EQ(Rebuild(new_model_, false, &err), 0) << err;
  const std::string run = "timeout 120 " + kBinary + " run --config " + (dir_ / "leadscore.yaml").string() +
                          " --model " + new_model_ + " --until-caught-up --no-clock";
  const int status = std::system((run + " >" + (dir_ / "run.log").string() + " 2>&1").c_str());
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << ReadText((dir_ / "run.log").string());
  auto published = stream::ReadToEnd(broker_->bootstrap(), {}, "routing-events", {}, 30000);
  ASSERT_TRUE(published.ok()) << published.status().message();
  EXPECT_TRUE(published->empty()) << "history's routing events published: " << published->size();
  store::StoreOptions so;
  so.dir = StateDir();
  auto opened = store::StateStore::Open(so);
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  auto state = (*opened)->Load(0);
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->offsets["engagement-events"], static_cast<int64_t>(story.size()));
  EXPECT_EQ(state->model_version, MustLoad(new_model_)->version);
}

TEST_F(RebuildTest, HeldLiveStateIsNotSwitchedUntilReleasedThenSwitchTakesTheRebuild) {
  ProduceStory();
  std::string err;
  ASSERT_EQ(Rebuild(old_model_, false, &err), 0) << err;
  {
    store::StoreOptions so;
    so.dir = StateDir();
    auto held = store::StateStore::Open(so);  // as a running service holds it
    ASSERT_TRUE(held.ok()) << held.status().message();
    EXPECT_EQ(Rebuild(new_model_, false, &err), 1);
    EXPECT_THAT(err, HasSubstr("Stop the service"));
    EXPECT_THAT(err, HasSubstr("--switch"));
    EXPECT_TRUE(fs::exists(StateDir() + ".rebuild"));
  }
  EXPECT_EQ(Rebuild(old_model_, true, &err), 1) << "a rebuild is switched to only under its own model";
  EXPECT_THAT(err, HasSubstr("was built under model"));
  ASSERT_EQ(Rebuild(new_model_, true, &err), 0) << err;
  store::StoreOptions so;
  so.dir = StateDir();
  auto opened = store::StateStore::Open(so);
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ((*opened)->Load(0)->model_version, MustLoad(new_model_)->version);
  EXPECT_EQ(Rebuild(new_model_, true, &err), 1) << "nothing left to switch to";
  EXPECT_THAT(err, HasSubstr("no finished rebuild"));
}

TEST_F(RebuildTest, RefusedWhenRetentionDroppedTheBeginningOfAnInput) {
  // The embedded broker keeps about 5 MB per partition: more than that drops the oldest
  // records, as retention would.
  Producer producer(broker_->bootstrap());
  const std::string value(200 * 1024, 'x');
  for (int i = 0; i < 40; ++i) {
    producer.Send("profiles", "acme", value, 1791190800000 + i);
    if (i % 5 == 4) producer.Flush();  // several produce requests: whole ones are dropped
  }
  producer.Flush();
  auto marks = stream::Watermarks(broker_->bootstrap(), {}, "profiles", 10000);
  ASSERT_TRUE(marks.ok()) << marks.status().message();
  const int64_t low = marks->at(0).low;
  ASSERT_GT(low, 0) << "the embedded broker did not drop the oldest records";
  std::string err;
  EXPECT_EQ(Rebuild(new_model_, false, &err), 1);
  EXPECT_THAT(err, HasSubstr("input topic 'profiles' partition 0 starts at offset " + std::to_string(low)));
  EXPECT_FALSE(fs::exists(StateDir() + ".rebuild")) << "refused before any work";
  EXPECT_FALSE(fs::exists(StateDir()));
}

// Every stored entity of a state dir: kind and id -> due time and engine bytes.
std::map<std::string, std::string> Entities(const std::string& dir) {
  store::StoreOptions so;
  so.dir = dir;
  auto opened = store::StateStore::Open(so);
  EXPECT_TRUE(opened.ok()) << opened.status().message();
  std::map<std::string, std::string> out;
  if (!opened.ok()) return out;
  auto parts = (*opened)->StoredPartitions();
  EXPECT_TRUE(parts.ok());
  for (int32_t p : *parts) {
    EXPECT_TRUE((*opened)
                    ->ForEachEntity(p,
                                    [&](engine::EntityKind kind, std::string_view id, const store::StoredEntity& e) {
                                      out[(kind == engine::EntityKind::kLead ? "lead/" : "account/") +
                                          std::string(id)] = std::to_string(e.due_ms) + "/" + e.bytes;
                                    })
                    .ok());
  }
  return out;
}

// Everything a state dir holds but its delivery bookkeeping (outbox, output offsets) and
// changelog position: entities, decay timers, routing snapshots, unmatched outcomes,
// offsets and the partition's other fields. Two dirs with the same dump hold the same
// state.
std::string Dump(const std::string& dir) {
  std::ostringstream out;
  for (const auto& [key, value] : Entities(dir)) out << key << '=' << value << '\n';
  store::StoreOptions so;
  so.dir = dir;
  auto opened = store::StateStore::Open(so);
  EXPECT_TRUE(opened.ok()) << opened.status().message();
  if (!opened.ok()) return out.str();
  auto& store = **opened;
  auto parts = store.StoredPartitions();
  EXPECT_TRUE(parts.ok());
  for (int32_t p : *parts) {
    auto state = store.Load(p);
    EXPECT_TRUE(state.ok());
    out << "partition " << p << " model " << state->model_version << " format " << state->state_format
        << " stream_time " << state->stream_time_ms << " routing_seq " << state->routing_seq << " handoff_seq "
        << state->handoff_seq << " reevaluating " << state->reevaluation.has_value() << '\n';
    for (const auto& [topic, offset] : state->offsets) out << "offset " << topic << ' ' << offset << '\n';
    std::vector<store::DueEntity> due;
    EXPECT_TRUE(store.DueBy(p, INT64_MAX, &due).ok());
    for (const auto& d : due) out << "due " << static_cast<int>(d.kind) << ' ' << d.id << '\n';
    EXPECT_TRUE(store.ForEachRouting(p, [&](std::string_view bytes) {
                       out << "routing " << bytes.size() << ' ' << bytes << '\n';
                       return Status::Ok();
                     }).ok());
    EXPECT_TRUE(store.ForEachUnmatched(p, [&](std::string_view bytes) {
                       out << "unmatched " << bytes << '\n';
                       return Status::Ok();
                     }).ok());
  }
  return out.str();
}

// The tier each entity of a state dir is in, by the name its bytes keep.
std::map<std::string, std::string> Tiers(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (const auto& [key, value] : Entities(dir)) {
    auto tier = engine::StoredTierName(std::string_view(value).substr(value.find('/') + 1));
    EXPECT_TRUE(tier.ok()) << key;
    out[key] = tier.ok() ? *tier : "?";
  }
  return out;
}

class RebuildChangelogTest : public RebuildTest {
 protected:
  void SetUp() override {
    RebuildTest::SetUp();
    WriteConfig("changelog: true");
    // The rebuild's model moves tiers for certain: lower minimums as well as the
    // half-life (a rebuild takes any change).
    moves_model_ = (dir_ / "moves.yaml").string();
    std::string text = ReadText(new_model_);
    for (const auto& [from, to] :
         std::vector<std::pair<std::string, std::string>>{{"name: medium,    min_score: 40", "name: medium,    min_score: 20"},
                                                          {"name: B, min_score: 45", "name: B, min_score: 25"}}) {
      const auto at = text.find(from);
      ASSERT_NE(at, std::string::npos) << from;
      text.replace(at, from.size(), to);
    }
    std::ofstream(moves_model_) << text;
  }

  // The service on `config` with `model` until it has caught up, no clock.
  void RunService(const std::string& model, const std::string& config) {
    const std::string log = (dir_ / "run.log").string();
    const std::string run = "timeout 120 " + kBinary + " run --config " + config + " --model " + model +
                            " --until-caught-up --no-clock >" + log + " 2>&1";
    const int status = std::system(run.c_str());
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << ReadText(log);
  }
  void RunService(const std::string& model) { RunService(model, (dir_ / "leadscore.yaml").string()); }

  std::vector<engine::RoutingEvent> Published(int64_t from) {
    std::vector<engine::RoutingEvent> out;
    auto records = stream::ReadToEnd(broker_->bootstrap(), {}, "routing-events", {{0, from}}, 30000);
    EXPECT_TRUE(records.ok()) << records.status().message();
    if (!records.ok()) return out;
    for (const auto& r : *records) {
      auto ev = codec::RoutingEventFromBinary(r.value);
      EXPECT_TRUE(ev.ok()) << ev.status().message();
      if (ev.ok()) out.push_back(*ev);
    }
    return out;
  }

  // Entity key -> (tier before, tier after) for every entity whose tier differs.
  static std::map<std::string, std::pair<std::string, std::string>> Moves(
      const std::map<std::string, std::string>& before, const std::map<std::string, std::string>& after) {
    std::map<std::string, std::pair<std::string, std::string>> out;
    for (const auto& [key, tier] : after) {
      auto b = before.find(key);
      if (b != before.end() && b->second != tier) out[key] = {b->second, tier};
    }
    return out;
  }

  // Checks that `events` are exactly `moves`, once each, announced as the model change.
  void ExpectAnnounced(const std::vector<engine::RoutingEvent>& events,
                       const std::map<std::string, std::pair<std::string, std::string>>& moves) {
    const std::string reason = "model " + MustLoad(old_model_)->version + " -> " + MustLoad(moves_model_)->version;
    std::map<std::string, std::pair<std::string, std::string>> seen;
    for (const auto& ev : events) {
      const std::string key =
          ev.entity == engine::EntityKind::kLead ? "lead/" + ev.lead_id : "account/" + ev.account_id;
      EXPECT_TRUE(ev.reason.starts_with(reason)) << key << ": " << ev.reason;
      EXPECT_TRUE(seen.emplace(key, std::make_pair(ev.from_tier, ev.to_tier)).second) << key << " announced twice";
    }
    EXPECT_EQ(seen, moves);
  }

  std::string moves_model_;
};

// The live state built by the service under the old model, with its changelog; then
// rebuild under a model that moves tiers, switched. The service on the switched state
// publishes the tier moves once (not again on a restart) and no history; a fresh
// instance with an empty state dir restores the same state from the changelog.
TEST_F(RebuildChangelogTest, SwitchReseedsTheChangelogAndTheServiceAnnouncesTierMovesOnce) {
  ProduceStory();
  RunService(old_model_);
  const auto history = Published(0);
  ASSERT_FALSE(history.empty()) << "the live service published the story's routing events";
  const int64_t after_history = static_cast<int64_t>(history.size());

  std::string err;
  ASSERT_EQ(Rebuild(moves_model_, false, &err), 0) << err;
  EXPECT_THAT(err, HasSubstr("changelog rebuild-test-state reseeded"));
  const auto before = BeforeRebuildDirs(dir_);
  ASSERT_EQ(before.size(), 1u);
  const auto rebuilt = Entities(StateDir());
  ASSERT_FALSE(rebuilt.empty());
  const std::string rebuilt_dump = Dump(StateDir());
  const auto moves = Moves(Tiers(before[0].string()), Tiers(StateDir()));
  ASSERT_FALSE(moves.empty()) << "the test would not see an announcement";
  EXPECT_THAT(err, HasSubstr(std::to_string(moves.size()) + " tier change(s) against it to announce"));

  RunService(moves_model_);
  ExpectAnnounced(Published(after_history), moves);
  EXPECT_EQ(Entities(StateDir()), rebuilt) << "the service changed nothing but delivered";
  EXPECT_EQ(Dump(StateDir()), rebuilt_dump);
  RunService(moves_model_);
  EXPECT_EQ(Published(after_history).size(), moves.size()) << "a restart announces nothing again";

  // A new machine: the same group, an empty state dir, restored from the changelog.
  const std::string fresh_dir = (dir_ / "fresh").string();
  const std::string fresh_config = (dir_ / "fresh.yaml").string();
  std::string text = ReadText((dir_ / "leadscore.yaml").string());
  const std::string from = "state_dir: " + StateDir();
  text.replace(text.find(from), from.size(), "state_dir: " + fresh_dir);
  std::ofstream(fresh_config) << text;
  RunService(moves_model_, fresh_config);
  EXPECT_EQ(Entities(fresh_dir), rebuilt) << "restored from the changelog: the rebuilt state";
  EXPECT_EQ(Dump(fresh_dir), rebuilt_dump) << "no key of the old state is left over";
  EXPECT_EQ(Published(after_history).size(), moves.size()) << "nothing published again, history included";
}

// A kill after the changelog's reseed and before the rename leaves the old state in
// place with a position behind the changelog: the service restarted on it catches up
// from the changelog, so it runs on the rebuilt state (announcements included) anyway.
TEST_F(RebuildChangelogTest, OldStateRestartedAfterAKillBeforeTheRenameCatchesUpToTheRebuild) {
  ProduceStory();
  RunService(old_model_);
  const int64_t after_history = static_cast<int64_t>(Published(0).size());
  // The old state as the kill leaves it: the switch does not write to it.
  const fs::path kept = dir_ / "old-copy";
  fs::copy(StateDir(), kept, fs::copy_options::recursive);

  std::string err;
  ASSERT_EQ(Rebuild(moves_model_, false, &err), 0) << err;
  const auto rebuilt = Entities(StateDir());
  const std::string rebuilt_dump = Dump(StateDir());
  const auto moves = Moves(Tiers(kept.string()), Tiers(StateDir()));
  ASSERT_FALSE(moves.empty());
  fs::remove_all(StateDir());
  fs::rename(kept, StateDir());

  RunService(moves_model_);
  EXPECT_EQ(Entities(StateDir()), rebuilt);
  EXPECT_EQ(Dump(StateDir()), rebuilt_dump) << "no key of the old state is left over";
  ExpectAnnounced(Published(after_history), moves);
}

// A kill after the reseed and before the rename, then `--switch` again (the cure the
// README gives): the tiers are not grafted again nor the pass run again, the changelog is
// reseeded once more, and the service publishes each move once.
TEST_F(RebuildChangelogTest, SwitchRerunAfterAKillBeforeTheRenameAnnouncesNothingTwice) {
  ProduceStory();
  RunService(old_model_);
  const int64_t after_history = static_cast<int64_t>(Published(0).size());
  const fs::path kept = dir_ / "old-copy";
  fs::copy(StateDir(), kept, fs::copy_options::recursive);
  std::string err;
  ASSERT_EQ(Rebuild(moves_model_, false, &err), 0) << err;
  const std::string rebuilt_dump = Dump(StateDir());
  const auto moves = Moves(Tiers(kept.string()), Tiers(StateDir()));
  ASSERT_FALSE(moves.empty());
  // As the kill leaves the directories: the rebuild with its markers, the old state live.
  fs::rename(StateDir(), StateDir() + ".rebuild");
  std::ofstream(StateDir() + ".rebuild/REBUILT") << MustLoad(moves_model_)->version << "\n";
  std::ofstream(StateDir() + ".rebuild/TIERS-GRAFTED") << MustLoad(moves_model_)->version << "\n";
  fs::rename(kept, StateDir());

  ASSERT_EQ(Rebuild(moves_model_, true, &err), 0) << err;
  EXPECT_THAT(err, HasSubstr(" 0 tier change(s) against it to announce")) << "the pass is not run twice";
  EXPECT_EQ(Dump(StateDir()), rebuilt_dump);
  EXPECT_FALSE(fs::exists(StateDir() + "/REBUILT"));
  EXPECT_FALSE(fs::exists(StateDir() + "/TIERS-GRAFTED"));
  RunService(moves_model_);
  ExpectAnnounced(Published(after_history), moves);
  EXPECT_EQ(Dump(StateDir()), rebuilt_dump);
}

TEST(ProgressBarTest, RedrawnInPlaceOnATerminalAndATenthALineOtherwise) {
  std::ostringstream tty_out, plain_out;
  ProgressBar tty(tty_out, true, "records"), plain(plain_out, false, "records");
  for (uint64_t done = 0; done <= 1000; done += 10) {
    tty.Update(done, 1000);
    plain.Update(done, 1000);
  }
  tty.Finish(1000, 1000);
  plain.Finish(1000, 1000);
  EXPECT_EQ(Lines(plain_out.str()).size(), 11u) << plain_out.str();  // 0 %, 10 %, ..., 100 %
  EXPECT_THAT(plain_out.str(), HasSubstr("[###############               ]  50%  500/1000 records\n"));
  EXPECT_EQ(Lines(tty_out.str()).size(), 1u) << "one line, redrawn";
  EXPECT_THAT(tty_out.str(), HasSubstr("\r[##############################] 100%  1000/1000 records\n"));
}

TEST(RebuildFlags, BadFlagsAreUsageErrors) {
  EXPECT_EQ(ExitCode("rebuild --config leadscore.yaml"), 2) << "no --model";
  EXPECT_EQ(ExitCode("rebuild --model m.yaml"), 2) << "no --config";
  EXPECT_EQ(ExitCode("rebuild --config c.yaml --model m.yaml --swtich"), 2);
  EXPECT_EQ(ExitCode("rebuild --config /nonexistent/leadscore.yaml --model m.yaml"), 1) << "not a usage error";
}

}  // namespace
}  // namespace leadscore::cli
