#include "cli/rebuild.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <span>
#include <tuple>
#include <unordered_set>

#include "cli/progress_bar.h"
#include "config/config.h"
#include "store/state_store.h"
#include "stream/changelog_topic.h"
#include "stream/partition_task.h"

namespace leadscore::cli {
namespace {

namespace fs = std::filesystem;

// Written into the rebuilt state dir last: the switch takes only a rebuild that finished,
// and only under the model it was built with.
constexpr char kDoneFile[] = "REBUILT";

// Reading a round of history is bounded by this, not by the request timeout: a topic
// with years of records takes minutes.
constexpr int kReadTimeoutMs = 3600 * 1000;

// Caught up: a round found nothing new. Inputs that never pause are given this many.
constexpr int kMaxRounds = 20;

std::string RebuildDir(const std::string& state_dir) { return state_dir + ".rebuild"; }

// What the service gives its tasks (stream/service.cc), without the repartition topic:
// the rebuild reads every partition itself, and a lead changing partition lives on in
// both (README "leadscore rebuild").
stream::TaskOptions RebuildTaskOptions(const stream::ServiceOptions& service, int32_t partitions) {
  stream::TaskOptions task;
  task.decoder = service.decoder;
  task.engine = service.engine;
  task.max_future_skew_ms = service.max_future_skew_ms;
  task.require_key = true;
  task.output_format = service.output_format;
  task.cache_entities = std::max<size_t>(1, service.cache_entities / std::max(1, partitions));
  task.cache_bytes = service.cache_bytes / std::max(1, partitions);
  return task;
}

// One partition's records of a round, from every input, in the order they are scored.
struct Pending {
  const stream::TailRecord* record;
  const stream::InputTopic* topic;
};

// The partition's routing events, committed with the batch, leave its outbox as if
// delivered: the CRM never saw this history, and the service must not publish it.
Status DropRoutingEvents(stream::PartitionTask& task, store::StateStore& store) {
  std::unordered_set<uint64_t> seqs;
  for (const auto& r : task.outbox().Unproduced()) seqs.insert(r.seq);
  task.outbox().MarkProduced();
  if (seqs.empty()) return Status::Ok();
  store::DeliveryCommit dropped = task.outbox().Delivered(seqs, {});
  return store.CommitDelivered({dropped});
}

}  // namespace

Result<std::map<std::string, std::map<int32_t, stream::Watermark>>> CheckInputsComplete(
    const stream::ServiceOptions& service, int timeout_ms) {
  std::map<std::string, std::map<int32_t, stream::Watermark>> out;
  for (const auto& in : service.inputs) {
    auto marks = stream::Watermarks(service.brokers, service.kafka, in.name, timeout_ms);
    if (!marks.ok()) return marks.status();
    if (marks->empty()) return Status::NotFound("input topic '" + in.name + "' does not exist on " + service.brokers);
    for (const auto& [p, w] : *marks) {
      if (w.low > 0) {
        return Status::InvalidArgument(
            "input topic '" + in.name + "' partition " + std::to_string(p) + " starts at offset " +
            std::to_string(w.low) + ": retention has dropped the records before it, so a state rebuilt from what is "
            "left would miss that history; nothing was changed (change the model live instead: SIGHUP or PUT "
            "/v1/model)");
      }
    }
    out[in.name] = std::move(*marks);
  }
  return out;
}

Result<BuildSummary> BuildState(std::shared_ptr<const model::Model> model, const stream::ServiceOptions& service,
                                const std::string& dir, std::ostream& progress, bool tty, int timeout_ms) {
  auto marks = CheckInputsComplete(service, timeout_ms);
  if (!marks.ok()) return marks.status();
  BuildSummary summary;
  uint64_t total = 0;
  for (const auto& [topic, parts] : *marks) {
    for (const auto& [p, w] : parts) {
      summary.partitions = std::max(summary.partitions, p + 1);
      total += static_cast<uint64_t>(w.high);
    }
  }
  std::error_code ec;
  if (fs::exists(dir)) {
    spdlog::info("rebuild: {} is left from an earlier rebuild; starting it again", dir);
    fs::remove_all(dir, ec);
    if (ec) return Status::IoError("cannot remove " + dir + ": " + ec.message());
  }
  store::StoreOptions so = service.store;
  so.dir = dir;
  auto opened = store::StateStore::Open(so);
  if (!opened.ok()) return opened.status();
  std::unique_ptr<store::StateStore> store = std::move(*opened);

  const stream::TaskOptions task_options = RebuildTaskOptions(service, summary.partitions);
  std::vector<std::unique_ptr<stream::PartitionTask>> tasks;
  std::vector<std::map<std::string, int64_t>> offsets(summary.partitions);
  for (int32_t p = 0; p < summary.partitions; ++p) {
    tasks.push_back(std::make_unique<stream::PartitionTask>(p, model, task_options, store.get()));
    auto resumed = tasks.back()->Resume();
    if (!resumed.ok()) return resumed.status();
  }

  ProgressBar bar(progress, tty, "records");
  bar.Update(0, total);
  const size_t batch_size = std::max<size_t>(1, service.max_batch);
  std::map<std::string, std::map<int32_t, int64_t>> next;  // topic -> partition -> next offset
  for (;;) {
    if (summary.rounds == kMaxRounds) {
      return Status::Unavailable("the inputs did not pause in " + std::to_string(kMaxRounds) +
                                 " rounds of reading; the rebuild did not catch up (run it when they are quieter)");
    }
    ++summary.rounds;
    // Read first, then score: a round's records of one partition, from every input,
    // go through its task in Kafka timestamp order (replay's one timeline).
    std::map<std::string, std::vector<stream::TailRecord>> read;
    uint64_t round_records = 0;
    for (const auto& in : service.inputs) {
      auto records = stream::ReadToEnd(service.brokers, service.kafka, in.name, next[in.name], kReadTimeoutMs);
      if (!records.ok()) return records.status();
      round_records += records->size();
      read[in.name] = std::move(*records);
    }
    if (round_records == 0) break;
    if (summary.rounds > 1) total += round_records;  // arrived while the rebuild ran
    std::vector<std::vector<Pending>> by_partition(summary.partitions);
    for (const auto& in : service.inputs) {
      for (const auto& r : read[in.name]) {
        if (r.partition >= summary.partitions) {
          return Status::Unavailable("input topic '" + in.name + "' gained partitions during the rebuild");
        }
        by_partition[r.partition].push_back({&r, &in});
        next[in.name][r.partition] = r.offset + 1;
      }
    }
    for (int32_t p = 0; p < summary.partitions; ++p) {
      auto& pending = by_partition[p];
      std::stable_sort(pending.begin(), pending.end(), [](const Pending& a, const Pending& b) {
        return a.record->timestamp_ms < b.record->timestamp_ms;
      });
      stream::PartitionTask& task = *tasks[p];
      for (size_t start = 0; start < pending.size(); start += batch_size) {
        const size_t end = std::min(pending.size(), start + batch_size);
        std::vector<stream::InputRecord> batch;
        batch.reserve(end - start);
        for (size_t i = start; i < end; ++i) {
          const stream::TailRecord& r = *pending[i].record;
          batch.push_back({.topic = pending[i].topic->name, .format = pending[i].topic->format, .offset = r.offset,
                           .key = r.key, .value = r.value});
          offsets[p][pending[i].topic->name] = r.offset + 1;
        }
        // No clock: history's stream time moves with its events, as in replay.
        stream::BatchOutcome out;
        LEADSCORE_RETURN_IF_ERROR(task.Process(batch, std::nullopt, &out));
        LEADSCORE_RETURN_IF_ERROR(task.Commit(offsets[p], out.events));
        LEADSCORE_RETURN_IF_ERROR(DropRoutingEvents(task, *store));
        summary.records += batch.size();
        summary.refused += out.refused.size();
        summary.routing_events += out.events.size();
        bar.Update(summary.records, total);
      }
    }
  }
  bar.Finish(summary.records, total);
  tasks.clear();
  store.reset();  // closed before it is marked complete
  std::ofstream done(fs::path(dir) / kDoneFile);
  done << model->version << '\n';
  done.close();
  if (!done) return Status::IoError("cannot write " + (fs::path(dir) / kDoneFile).string());
  return summary;
}

namespace {

// Written into the rebuilt state dir once every partition's entities carry the live
// state's tiers: the announcement passes may run (and a rerun must not graft again over
// entities a pass has moved already).
constexpr char kGraftedFile[] = "TIERS-GRAFTED";

// Each rebuilt entity is put in the tier the live state has it in (none: the lowest), and
// the partition marked as state of the live model with a pass towards `model` in progress
// (one write per partition). Resume then runs the ordinary pass (PartitionTask, as a
// model change does): each entity whose tier differs is announced, reason "model OLD ->
// NEW", into the outbox the service publishes from once it runs on this state.
Status GraftLiveTiers(const model::Model& model, store::StateStore& rebuilt, const store::StateStore& live,
                      int32_t partition) {
  auto live_state = live.Load(partition);
  if (!live_state.ok()) return live_state.status();
  if (live_state->model_version.empty()) return Status::Ok();  // nothing live here: nothing the CRM was told
  if (live_state->state_format < engine::kStateFormat) {
    return Status::InvalidArgument(
        "the live state's partition " + std::to_string(partition) + " is in state format " +
        std::to_string(live_state->state_format ? live_state->state_format : 4) + ", whose tiers cannot be read "
        "without its model: start the service on it once with its model (" + live_state->model_version +
        "), which rewrites it in format " + std::to_string(engine::kStateFormat) + ", then switch");
  }
  auto rebuilt_state = rebuilt.Load(partition);
  if (!rebuilt_state.ok()) return rebuilt_state.status();
  store::PartitionCommit c;
  c.partition = partition;
  c.stream_time_ms = rebuilt_state->stream_time_ms;
  c.model_version = live_state->model_version;
  c.reevaluation = store::Reevaluation{model.version, ""};
  Status failed = Status::Ok();
  LEADSCORE_RETURN_IF_ERROR(rebuilt.ForEachEntity(
      partition, [&](engine::EntityKind kind, std::string_view id, const store::StoredEntity& stored) {
        if (!failed.ok()) return;
        auto was = live.Get(partition, kind, id);
        if (!was.ok()) {
          failed = was.status();
          return;
        }
        std::string tier;  // not in the live state: from no tier, as a new entity
        if (*was) {
          auto name = engine::StoredTierName((*was)->bytes);
          if (!name.ok()) {
            failed = name.status();
            return;
          }
          tier = std::move(*name);
        }
        auto grafted = engine::WithStoredTier(stored.bytes, tier);
        if (!grafted.ok()) {
          failed = grafted.status();
          return;
        }
        c.changes.push_back({.kind = kind, .id = std::string(id), .bytes = std::move(*grafted),
                             .due_ms = stored.due_ms, .previous_due_ms = stored.due_ms});
      }));
  LEADSCORE_RETURN_IF_ERROR(failed);
  return rebuilt.Commit({c});
}

// The tier changes between the live state and the rebuilt one, announced in the rebuilt
// state's outbox (see GraftLiveTiers). Restartable: grafting again before the marker
// file gives the same entities; after it, Resume continues each pass after its marker.
Result<uint64_t> AnnounceTierChanges(std::shared_ptr<const model::Model> model, const stream::ServiceOptions& service,
                                     store::StateStore& rebuilt, const store::StateStore& live,
                                     const std::string& rebuilt_dir) {
  auto partitions = rebuilt.StoredPartitions();
  if (!partitions.ok()) return partitions.status();
  const fs::path grafted = fs::path(rebuilt_dir) / kGraftedFile;
  if (!fs::exists(grafted)) {
    for (int32_t p : *partitions) LEADSCORE_RETURN_IF_ERROR(GraftLiveTiers(*model, rebuilt, live, p));
    std::ofstream mark(grafted);
    mark << model->version << '\n';
    mark.close();
    if (!mark) return Status::IoError("cannot write " + grafted.string());
  }
  const int32_t n = partitions->empty() ? 1 : partitions->back() + 1;
  uint64_t announced = 0;
  for (int32_t p : *partitions) {
    stream::PartitionTask task(p, model, RebuildTaskOptions(service, n), &rebuilt);
    auto resumed = task.Resume();  // the pass, when the partition has one to run
    if (!resumed.ok()) return resumed.status();
    announced += task.resume_reevaluation().events.size();
  }
  return announced;
}

// Every changelog partition made to hold the rebuilt state (StateStore::ReseedReplacing),
// the rebuilt state's position recorded after the batch.
Status ReseedChangelog(const stream::ServiceOptions& service, store::StateStore& rebuilt,
                       const store::StateStore* live) {
  stream::ChangelogTopicOptions co;
  co.brokers = service.brokers;
  co.topic = service.changelog();
  co.kafka = service.kafka;
  for (const auto& in : service.inputs) co.input_topics.push_back(in.name);
  auto changelog = stream::KafkaChangelog::Open(co);
  if (!changelog.ok()) return changelog.status();
  rebuilt.AttachChangelog(changelog->get());
  for (int32_t p = 0; p < (*changelog)->partitions(); ++p) {
    store::RestoreProgress progress;
    Status s = rebuilt.ReseedReplacing(p, **changelog, live, &progress);
    if (!s.ok()) {
      rebuilt.AttachChangelog(nullptr);
      return s;
    }
    spdlog::info("rebuild: changelog {} partition {} reseeded: {} records after offset {}", co.topic, p,
                 progress.records, progress.to);
  }
  rebuilt.AttachChangelog(nullptr);
  return Status::Ok();
}

}  // namespace

Result<SwitchOutcome> SwitchState(std::shared_ptr<const model::Model> model, const stream::ServiceOptions& service,
                                  const std::string& state_dir) {
  const std::string& model_version = model->version;
  const std::string rebuilt = RebuildDir(state_dir);
  std::ifstream done(fs::path(rebuilt) / kDoneFile);
  std::string built_under;
  if (!done || !std::getline(done, built_under)) {
    return Status::NotFound("no finished rebuild at " + rebuilt + ": run `leadscore rebuild` without --switch first");
  }
  if (built_under != model_version) {
    return Status::InvalidArgument("the rebuild at " + rebuilt + " was built under model " + built_under +
                                   ", not " + model_version + ": run `leadscore rebuild` with this model again");
  }
  SwitchOutcome outcome;
  {
    // Opening the live state takes RocksDB's lock: it fails while a service holds it. It
    // is held from here through the announcement and the changelog's reseed, and let go
    // before the rename (a service started in between would hold the renamed directory:
    // the README says to stop it first).
    std::unique_ptr<store::StateStore> live;
    if (fs::exists(state_dir)) {
      store::StoreOptions so = service.store;
      so.dir = state_dir;
      auto opened = store::StateStore::Open(so);
      if (!opened.ok()) {
        outcome.why_not = "the live state " + state_dir + " cannot be opened (" + opened.status().message() +
                          "): a service is probably running on it. Stop the service, run `leadscore rebuild --config "
                          "... --model ... --switch`, then start it with the new model; the rebuild stays at " + rebuilt;
        return outcome;
      }
      live = std::move(*opened);
    }
    store::StoreOptions so = service.store;
    so.dir = rebuilt;
    auto opened = store::StateStore::Open(so);
    if (!opened.ok()) return opened.status();
    std::unique_ptr<store::StateStore> next = std::move(*opened);
    if (live) {
      auto announced = AnnounceTierChanges(model, service, *next, *live, rebuilt);
      if (!announced.ok()) return announced.status();
      outcome.announced = *announced;
    }
    // Changelog last: from here a service restoring the old state (or none) from the
    // changelog gets the rebuilt one, announcements included (README "crash windows").
    if (service.changelog_enabled) LEADSCORE_RETURN_IF_ERROR(ReseedChangelog(service, *next, live.get()));
  }
  if (fs::exists(state_dir)) {
    const auto seconds =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    outcome.before = FreeBackupPath(state_dir, seconds);
    std::error_code ec;
    fs::rename(state_dir, outcome.before, ec);
    if (ec) return Status::IoError("cannot move " + state_dir + " to " + outcome.before + ": " + ec.message());
  }
  std::error_code ec;
  fs::rename(rebuilt, state_dir, ec);
  if (ec) return Status::IoError("cannot move " + rebuilt + " to " + state_dir + ": " + ec.message());
  // The markers are the rebuild's, not the state's: removed once it is in place (a kill
  // before the rename leaves a rebuild a rerun still takes; one after, two stray files
  // RocksDB ignores).
  fs::remove(fs::path(state_dir) / kGraftedFile, ec);
  fs::remove(fs::path(state_dir) / kDoneFile, ec);
  outcome.switched = true;
  return outcome;
}

std::string FreeBackupPath(const std::string& state_dir, int64_t seconds) {
  const std::string base = state_dir + ".before-rebuild-" + std::to_string(seconds);
  std::string path = base;
  for (int n = 2; fs::exists(path); ++n) path = base + "-" + std::to_string(n);
  return path;
}

int RunRebuild(const RebuildFlags& flags, std::ostream& err, bool tty) {
  auto cfg = config::LoadConfigFromFile(flags.config_path);
  if (!cfg.ok()) {
    err << cfg.status().message() << "\n";
    return 1;
  }
  config::Config c = std::move(*cfg);
  if (c.service.brokers.empty()) {
    err << "rebuild: no brokers in " << flags.config_path << "\n";
    return 1;
  }
  auto loaded = model::LoadModelFromFile(flags.model_path);
  if (!loaded.ok()) {
    err << flags.model_path << ": model refused:\n" << loaded.ErrorText();
    return 1;
  }
  const std::string& version = loaded.model->version;
  if (!flags.switch_only) {
    auto built = BuildState(loaded.model, c.service, RebuildDir(c.state_dir), err, tty, flags.timeout_ms);
    if (!built.ok()) {
      err << "rebuild: " << built.status().message() << "\n";
      return 1;
    }
    err << "rebuild: model " << version << ": " << built->records << " records of " << built->partitions
        << " partition(s) read into " << RebuildDir(c.state_dir) << " (" << built->refused << " refused, "
        << built->routing_events << " routing events of history not published)\n";
  }
  auto switched = SwitchState(loaded.model, c.service, c.state_dir);
  if (!switched.ok()) {
    err << "rebuild: " << switched.status().message() << "\n";
    return 1;
  }
  if (!switched->switched) {
    err << "rebuild: not switched: " << switched->why_not << "\n";
    return 1;
  }
  err << "rebuild: " << c.state_dir << " is now the state rebuilt under model " << version
      << (switched->before.empty() ? std::string() : "; the state before is at " + switched->before)
      << "; " << switched->announced << " tier change(s) against it to announce"
      << (c.service.changelog_enabled ? "; changelog " + c.service.changelog() + " reseeded" : std::string())
      << ". Start the service with --model " << flags.model_path << "\n";
  return 0;
}

}  // namespace leadscore::cli
