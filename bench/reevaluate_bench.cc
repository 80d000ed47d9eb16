// The cost of a model change (issue 13): every stored entity of a partition re-evaluated
// under a new model, next to a plain read of the same state measured in the same run.
//   build         N entities (accounts with ~3 leads each, profiles, some events) scored
//                 under model A by one PartitionTask on a real StateStore (WAL on)
//   read (limit)  StateStore::ForEachEntity over the partition: every entity's bytes
//   point reads   StateStore::Get of every entity in key order, the pass's access
//   in memory     the engine alone: those bytes restored into an Engine of model B,
//                 Reevaluate per account, TakeChanges per 1 000 accounts (encoding)
//   dry run       stream::DryRunPartition under B: reads and counts, writes nothing
//   from disk     PartitionTask::ChangeModel(B): pages of 1 000 accounts read from
//                 RocksDB, re-evaluated, committed (state, outbox, progress marker)
// B is the example model with other points and tier thresholds. One partition, so one
// core: a service runs its partitions' passes on its workers.
//
//   reevaluate_bench [--quick] [--entities N] [--workdir DIR]
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "bench_util.h"
#include "codec/codec.h"
#include "sim/market.h"
#include "store/state_store.h"
#include "stream/partition_task.h"
#include "stream/reevaluation.h"

namespace leadscore::bench {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int64_t kDay = 86400000;
constexpr int64_t kStart = 1790000000000;

double Since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// "276.0 k entities/s"
std::string Rate(double per_s) {
  char b[64];
  if (per_s >= 1e6) std::snprintf(b, sizeof b, "%.2f M entities/s", per_s / 1e6);
  else if (per_s >= 1e3) std::snprintf(b, sizeof b, "%.1f k entities/s", per_s / 1e3);
  else std::snprintf(b, sizeof b, "%.0f entities/s", per_s);
  return b;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void Replace(std::string* s, const std::string& from, const std::string& to) {
  const size_t at = s->find(from);
  if (at == std::string::npos) {
    std::fprintf(stderr, "model B: '%s' not in the example model\n", from.c_str());
    std::abort();
  }
  s->replace(at, from.size(), to);
}

std::shared_ptr<const model::Model> Load(const std::string& yaml) {
  auto r = model::LoadModelFromString(yaml);
  if (!r.model) {
    std::fprintf(stderr, "model does not load\n");
    std::abort();
  }
  return r.model;
}

// A: the example model. B: other points for a fit rule and a signal, other tier minimums.
std::pair<std::shared_ptr<const model::Model>, std::shared_ptr<const model::Model>> Models() {
  const std::string a = ReadFile(std::string(LEADSCORE_SOURCE_DIR) + "/examples/model.yaml");
  std::string b = a;
  Replace(&b, "version: \"example-2026-11\"", "version: \"example-bench-b\"");
  Replace(&b, "in: [software, fintech] } }, points: 25 }", "in: [software, fintech] } }, points: 35 }");
  Replace(&b, "pricing_page_view:     { points: 15,", "pricing_page_view:     { points: 10,");
  Replace(&b, "{ name: high,      min_score: 65,", "{ name: high,      min_score: 55,");
  Replace(&b, "{ name: medium,    min_score: 40,", "{ name: medium,    min_score: 50,");
  Replace(&b, "{ name: B, min_score: 45,", "{ name: B, min_score: 35,");
  return {Load(a), Load(b)};
}

struct Options {
  bool quick = false;
  uint32_t entities = 0;  // 0: 1 M (100 k with --quick)
  std::string workdir;
};

struct Entity {
  engine::EntityKind kind;
  std::string id, bytes;
  int64_t due_ms;
};

int Main(const Options& o) {
  const uint32_t entities = o.entities ? o.entities : (o.quick ? 100000 : 1000000);
  const uint32_t accounts = entities / 4, leads = entities - accounts;
  const size_t events = leads;  // one per lead on average, a quarter of them on 1 % of the accounts
  const auto [model_a, model_b] = Models();
  std::filesystem::remove_all(o.workdir);
  std::filesystem::create_directories(o.workdir);
  const std::string dir = o.workdir + "/state";
  auto store = store::StateStore::Open({.dir = dir});
  if (!store.ok()) std::abort();

  // ---- build under A ---------------------------------------------------------------
  auto task = std::make_shared<stream::PartitionTask>(0, model_a, stream::TaskOptions{}, store->get());
  if (!task->Resume().ok()) std::abort();
  task->set_cache_entities(62500);  // the share of one of 8 partitions of 500 000 (the count bound before cache_mb)
  sim::Market market({.accounts = accounts, .leads = leads, .seed = 13});
  constexpr size_t kBatch = 10000;
  int64_t offset = 0;
  std::vector<std::pair<std::string, std::string>> batch;
  int64_t clock = kStart;
  auto flush = [&] {
    std::vector<stream::InputRecord> records;
    records.reserve(batch.size());
    for (const auto& [key, value] : batch) records.push_back({"events", codec::Format::kProtobuf, ++offset, key, value});
    stream::BatchOutcome out;
    if (!task->Process(records, clock, &out).ok() || !out.refused.empty()) std::abort();
    if (!task->Commit({{"events", offset + 1}}, out.events).ok()) std::abort();
    batch.clear();
  };
  const auto build = Clock::now();
  for (uint32_t a = 0; a < market.accounts(); ++a) {
    auto p = market.AccountProfile(a, 1);
    batch.emplace_back(p.account_id, codec::EncodeInput(p, codec::Format::kProtobuf));
    if (batch.size() == kBatch) flush();
  }
  for (uint32_t l = 0; l < market.leads(); ++l) {
    auto p = market.LeadProfile(l, 1);
    batch.emplace_back(p.account_id, codec::EncodeInput(p, codec::Format::kProtobuf));
    if (batch.size() == kBatch) flush();
  }
  if (!batch.empty()) flush();
  size_t i = 0;
  for (const auto& e : market.Traffic(events, kStart, 60 * kDay)) {
    auto ev = market.Event(e);
    clock = std::max(clock, ev.occurred_at_ms);
    batch.emplace_back(ev.account_id, codec::EncodeInput(ev, codec::Format::kProtobuf));
    if (++i % kBatch == 0) flush();
  }
  if (!batch.empty()) flush();
  const double build_s = Since(build);
  const int64_t stream_time = task->committed_stream_time();

  // ---- read (limit): every entity of the partition, in key order -------------------
  uint64_t n_read = 0, bytes_read = 0;
  auto t = Clock::now();
  if (!(*store)->ForEachEntity(0, [&](engine::EntityKind, std::string_view id, const store::StoredEntity& e) {
        ++n_read;
        bytes_read += id.size() + e.bytes.size();
      }).ok()) {
    std::abort();
  }
  const double read_s = Since(t);
  std::vector<Entity> state;
  state.reserve(n_read);
  if (!(*store)->ForEachEntity(0, [&](engine::EntityKind kind, std::string_view id, const store::StoredEntity& e) {
        state.push_back({kind, std::string(id), e.bytes, e.due_ms});
      }).ok()) {
    std::abort();
  }
  uint64_t n_accounts = 0;
  for (const auto& e : state) n_accounts += e.kind == engine::EntityKind::kAccount;
  // The pass's own access: one point read (Get) per entity, the same keys in key order.
  t = Clock::now();
  for (const auto& e : state) {
    auto got = (*store)->Get(0, e.kind, e.id);
    if (!got.ok() || !*got) std::abort();
  }
  const double get_s = Since(t);

  // ---- in memory: the engine alone, from the bytes ----------------------------------
  double restore_s = 0, reeval_s = 0;
  uint64_t mem_events = 0;
  {
    engine::Engine eng(model_b);
    t = Clock::now();
    for (auto kind : {engine::EntityKind::kAccount, engine::EntityKind::kLead}) {
      for (const auto& e : state) {
        if (e.kind == kind && !eng.Restore(kind, e.id, e.bytes, e.due_ms).ok()) std::abort();
      }
    }
    eng.ResumeAt(stream_time);
    restore_s = Since(t);
    const std::string reason = stream::ModelChangeReason(model_a->version, model_b->version);
    std::vector<engine::RoutingEvent> out;
    std::vector<engine::Engine::Change> changes;
    size_t done = 0;
    t = Clock::now();
    for (const auto& e : state) {
      if (e.kind != engine::EntityKind::kAccount) continue;
      eng.Reevaluate(eng.account_ids().Find(e.id), reason, &out);
      if (++done % stream::kReevaluateChunk == 0) {
        eng.TakeChanges(&changes);
        changes.clear();
        mem_events += out.size();
        out.clear();
      }
    }
    eng.TakeChanges(&changes);
    mem_events += out.size();
    reeval_s = Since(t);
  }
  const long rss_kb = ProcStatusKb("VmHWM:");
  state.clear();
  state.shrink_to_fit();

  // ---- dry run under B ---------------------------------------------------------------
  server::TierMoves moves;
  t = Clock::now();
  if (!stream::DryRunPartition(**store, 0, model_b, engine::EngineOptions{}, stream_time, &moves).ok()) std::abort();
  const double dry_s = Since(t);
  uint64_t dry_changes = 0;
  for (const auto& c : moves.cells) dry_changes += c.from != c.to ? c.count : 0;

  // ---- from disk: the task's pass ------------------------------------------------------
  stream::ReevaluationOutcome outcome;
  t = Clock::now();
  if (!task->ChangeModel(model_b, &outcome).ok()) std::abort();
  const double disk_s = Since(t);
  const uint64_t reevaluated = outcome.accounts + outcome.leads;
  const uint64_t db_bytes = DirBytes(dir);
  task.reset();
  store->reset();
  std::filesystem::remove_all(o.workdir);

  const double read_rate = static_cast<double>(n_read) / read_s;
  const double get_rate = static_cast<double>(n_read) / get_s;
  const double mem_rate = static_cast<double>(n_read) / (restore_s + reeval_s);
  const double dry_rate = static_cast<double>(n_read) / dry_s;
  const double disk_rate = static_cast<double>(reevaluated) / disk_s;
  std::printf("state: %lu entities (%lu accounts, %lu leads), %zu events, built under A in %.1f s by one task; "
              "DB %.0f MiB after the pass; stream time %lld\n",
              static_cast<unsigned long>(n_read), static_cast<unsigned long>(n_accounts),
              static_cast<unsigned long>(n_read - n_accounts), events, build_s, db_bytes / 1048576.0,
              static_cast<long long>(stream_time));
  std::printf("\n| measure | figure | notes |\n|---|---|---|\n");
  std::printf("| RocksDB read of the state (limit) | %s | `ForEachEntity`, %lu entities, %.0f B each, %.2f s |\n",
              Rate(read_rate).c_str(), static_cast<unsigned long>(n_read),
              static_cast<double>(bytes_read) / static_cast<double>(n_read), read_s);
  std::printf("| RocksDB point reads of the same keys | %s | `Get` per entity in key order (the pass's access), %.2f s; "
              "%.2f× the read |\n",
              Rate(get_rate).c_str(), get_s, get_rate / read_rate);
  std::printf("| re-evaluation in memory (engine alone) | **%s** | restore %.2f s + re-evaluate and encode %.2f s; "
              "%lu tier changes; peak RSS %.0f MiB; **%.2f× the read** |\n",
              Rate(mem_rate).c_str(), restore_s, reeval_s, static_cast<unsigned long>(mem_events), rss_kb / 1024.0,
              mem_rate / read_rate);
  std::printf("| dry run (`DryRunPartition`) | %s | %.2f s, %lu would change tier; **%.2f× the read** |\n",
              Rate(dry_rate).c_str(), dry_s, static_cast<unsigned long>(dry_changes), dry_rate / read_rate);
  std::printf("| re-evaluation from disk (`ChangeModel`) | **%s** | %lu accounts + %lu leads in %.2f s, "
              "%zu tier changes (routing events); **%.2f× the read** |\n",
              Rate(disk_rate).c_str(), static_cast<unsigned long>(outcome.accounts),
              static_cast<unsigned long>(outcome.leads), disk_s, outcome.events.size(), disk_rate / read_rate);
  if (reevaluated != n_read) {
    std::fprintf(stderr, "the pass re-evaluated %lu entities of %lu stored\n", static_cast<unsigned long>(reevaluated),
                 static_cast<unsigned long>(n_read));
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace leadscore::bench

int main(int argc, char** argv) {
  leadscore::bench::Options o;
  o.workdir = std::filesystem::temp_directory_path().string() + "/leadscore-reevaluate-bench-" + std::to_string(getpid());
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--quick") o.quick = true;
    else if (a == "--entities" && i + 1 < argc) o.entities = static_cast<uint32_t>(std::atol(argv[++i]));
    else if (a == "--workdir" && i + 1 < argc) o.workdir = argv[++i];
    else {
      std::fprintf(stderr, "usage: reevaluate_bench [--quick] [--entities N] [--workdir DIR]\n");
      return 2;
    }
  }
  spdlog::set_level(spdlog::level::warn);
  return leadscore::bench::Main(o);
}
