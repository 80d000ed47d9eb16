// A partition task: the unit of work and state of one input partition (partition N of
// every co-partitioned input topic). It owns the partition's engine (the hot set of its
// entities), its decoder, its outbox and its place in the store, and is the one
// scoring path of leadscore: the service, `replay`, the benchmarks and the test
// harness all drive it. It knows nothing of Kafka.
//
// A batch goes:  Process(records, now)  decode -> load what they touch and what is due
//                                       -> advance to now -> apply
//                Commit(offsets, events)  prepare (changes, offsets, stream time,
//                                       staged outbox) -> one WriteBatch -> post-commit
//                                       (outbox records become publishable; eviction)
// Without a store (replay, tests) the same path runs and Commit only moves the outbox.
//
// Threading: one batch at a time per task, on any thread (the service's workers);
// views and gauges may be read from other threads meanwhile. With a store, views read
// the committed state and never wait for a batch.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "codec/codec.h"
#include "common/status.h"
#include "engine/engine.h"
#include "store/state_store.h"
#include "stream/options.h"
#include "stream/outbox.h"
#include "stream/routing_join.h"

namespace leadscore::stream {

// One input record as a task sees it (views into the caller's buffers).
struct InputRecord {
  std::string_view topic;
  codec::Format format = codec::Format::kProtobuf;
  int64_t offset = -1;
  std::optional<std::string_view> key;  // the Kafka key; nullopt: the record had none
  std::string_view value;
};

// A record the task refused: index into the batch, the reason as a value, the text.
struct Refused {
  size_t record = 0;
  codec::Refusal reason = codec::Refusal::kUnparseable;
  std::string error;
};

// Why a valid record was not scored, beside the filters (counted per filter, below):
// the engine outcomes that are skips.
inline constexpr engine::ApplyOutcome kSkips[] = {engine::ApplyOutcome::kUnknownSignal, engine::ApplyOutcome::kDuplicate,
                                                  engine::ApplyOutcome::kTooLate, engine::ApplyOutcome::kStaleProfile};

// What one batch of a task did. Every record is counted once in `applied_as`; an event
// the burst filter held (kHeld) is counted once more when its run ends, in the batch
// that ends it: in `released` or in `filtered`.
struct BatchOutcome {
  std::vector<engine::RoutingEvent> events;  // in the order they happened
  std::vector<Refused> refused;              // dead letters, in record order
  std::array<uint64_t, engine::kApplyOutcomes> applied_as{};  // records by what the engine did (ApplyOutcome)
  // By the model's filter index: events dropped, by a `when` filter as they came, by
  // the burst filter when their run ended. The metric label is "filter:" + its name.
  std::vector<uint64_t> filtered;
  uint64_t released = 0;  // held events whose run ended short: scored now (processed)
  // Records of the repartition topic (leads changing partition; not inputs): applied,
  // and sent again after a crash (skipped).
  uint64_t handoffs = 0, handoff_duplicates = 0;
  // Leads handed to another partition, merged here from one, and transfers dropped (the
  // lead was forgotten here meanwhile).
  uint64_t leads_released = 0, leads_adopted = 0, handoffs_dropped = 0;
  // Sales outcomes as the join placed them (with a store only: without one there is no
  // snapshot to answer), in record order.
  std::vector<JoinedOutcome> joined;
  uint64_t count(engine::ApplyOutcome o) const { return applied_as[static_cast<size_t>(o)]; }
  uint64_t filtered_total() const;
  // The other batch's counts added to this one's (replay's summary); not its events.
  void AddCounts(const BatchOutcome& other);
  void Clear() { *this = BatchOutcome{}; }
};

// Tests: called mid-batch (scored, not committed) on the batch's thread.
using MidBatchHook = std::function<void(int32_t partition, size_t records)>;
// Tests: called after each committed page of a re-evaluation pass with the accounts done
// so far; an error stops the pass there, as a kill -9 would.
using ReevaluationHook = std::function<Status(int32_t partition, uint64_t accounts_done)>;

// What a re-evaluation pass of a task did (a model change, or a state format rewrite).
struct ReevaluationOutcome {
  std::string from_version, to_version;
  uint64_t accounts = 0, leads = 0;          // re-evaluated (in this run of the pass)
  std::vector<engine::RoutingEvent> events;  // the tier changes: committed to the outbox
  bool resumed = false;                      // continued after an interrupted pass
};

class PartitionTask {
 public:
  // `store` may be null (state in memory only); it outlives the task.
  PartitionTask(int32_t partition, std::shared_ptr<const model::Model> model, TaskOptions options,
                store::StateStore* store);
  PartitionTask(const PartitionTask&) = delete;
  PartitionTask& operator=(const PartitionTask&) = delete;

  // Resumes from the stored state: stream time, outbox. The offsets to resume reading
  // from, per topic (a topic missing: from its start). State of another model is
  // re-evaluated under this one first (a pass, as ChangeModel's), and a pass a crash
  // interrupted is continued. State in an older format (engine::kStateFormat) is
  // rewritten first by the same pass, under the model that wrote it: under another
  // model it is refused, saying so.
  Result<std::map<std::string, int64_t>> Resume();

  // Between batches: the partition changes to `model`. What the engine holds and has not
  // committed is committed first (under the old model), then a new engine and decoder
  // under `model` resume at stream time and every stored entity is re-evaluated, a page
  // of accounts at a time, each page one write (changed entities, their routing events
  // in the outbox, the progress marker): a crash mid-way continues on resume. Nothing to
  // do when `model` is the one running. With no store, refused.
  Status ChangeModel(std::shared_ptr<const model::Model> model, ReevaluationOutcome* out);
  // The model the task scores with (the one a change went to, once it started).
  std::shared_ptr<const model::Model> model() const;
  // The stream time of the committed state (the dry run's).
  int64_t committed_stream_time() const { return committed_stream_time_.load(); }
  // What the last Resume's pass did (empty versions: none ran).
  const ReevaluationOutcome& resume_reevaluation() const { return resume_reevaluation_; }

  // Scores a batch of this partition's records at clock `now` (nullopt: no clock, as in
  // replay: only the events move stream time). Refused records are reported, never
  // applied. An error means the state could not be read: the task must not go on.
  Status Process(std::span<const InputRecord> records, std::optional<int64_t> now, BatchOutcome* out);

  // Makes the batch durable: the changed entities, the offsets after its records, the
  // stream time and its routing events in one write; then the events join the outbox
  // and the hot set is trimmed to `cache_entities`. Nothing to write: no write.
  Status Commit(const std::map<std::string, int64_t>& next_offsets, const std::vector<engine::RoutingEvent>& events);

  // Moves stream time to `now` without records (replay's --until): the routing events
  // and the held runs that end on the way.
  void AdvanceTo(int64_t now, BatchOutcome* out);

  // Views: with a store, the committed state (loaded aside, never waiting for a batch);
  // without, the engine's state under the task's lock.
  std::optional<engine::EntityView> ViewLead(const std::string& id) const;
  std::optional<engine::EntityView> ViewAccount(const std::string& id) const;
  // The routing event with the outcomes that answered it, as committed; nullopt: the
  // partition keeps none by that id (or the task has no store). An error: the state
  // could not be read.
  Result<std::optional<codec::RoutingSnapshot>> ViewRouting(const std::string& routing_id) const;

  Outbox& outbox() { return outbox_; }
  const Outbox& outbox() const { return outbox_; }
  int32_t partition() const { return partition_; }
  void set_cache_entities(size_t n) { cache_entities_.store(n, std::memory_order_relaxed); }
  void set_cache_bytes(size_t n) { cache_bytes_.store(n, std::memory_order_relaxed); }
  size_t hot_set_bytes() const { return hot_set_bytes_.load(std::memory_order_relaxed); }

  // Gauges, readable from any thread.
  int64_t stream_time() const { return stream_time_.load(std::memory_order_relaxed); }
  size_t loaded_leads() const { return loaded_leads_.load(std::memory_order_relaxed); }
  size_t loaded_accounts() const { return loaded_accounts_.load(std::memory_order_relaxed); }
  uint64_t decay_checks() const { return decay_checks_.load(std::memory_order_relaxed); }
  // As of the last batch: the earliest stream time a loaded entity's check may be due
  // (engine::Engine::NextCheckAt; INT64_MAX: none).
  int64_t next_check_at() const { return next_check_at_.load(std::memory_order_relaxed); }

  // Between batches only (replay, tests): the engine itself.
  engine::Engine& engine() { return *engine_; }
  // Accounts and leads re-evaluated by passes since the task was made (metrics).
  uint64_t reevaluated_entities() const { return reevaluated_entities_.load(std::memory_order_relaxed); }

  void set_mid_batch_hook(MidBatchHook hook) { mid_batch_hook_ = std::move(hook); }
  void set_reevaluation_hook(ReevaluationHook hook) { reevaluation_hook_ = std::move(hook); }
  void set_reevaluation_chunk(size_t accounts) { reevaluation_chunk_ = accounts; }

 private:
  std::optional<engine::EntityView> View(engine::EntityKind kind, const std::string& id) const;
  void PublishGauges();
  Status ScrubIfDue();
  Status JoinOutcome(const InputRecord& record, BatchOutcome* out);
  // The engine's held runs that ended since the last call, into `out`.
  void CountSettled(BatchOutcome* out);
  Status CommitLocked(const std::map<std::string, int64_t>& next_offsets, const std::vector<engine::RoutingEvent>& events);
  // A new engine and decoder under `model` at stream time `stream_time_ms`.
  void Rebuild(std::shared_ptr<const model::Model> model, int64_t stream_time_ms);
  // The pass (mu_ held, the engine under the target model): every stored account after
  // `after`, re-evaluated with reason "model FROM -> TO"; pages committed with the
  // marker under model_version `from_version`; at the end model_version is the task's
  // and the state format kStateFormat.
  Status Reevaluate(const std::string& from_version, const std::string& after, ReevaluationOutcome* out);

  const int32_t partition_;
  // Changed by ChangeModel under both mu_ and model_mu_; views read it under model_mu_.
  mutable std::mutex model_mu_;
  std::shared_ptr<const model::Model> model_;
  const TaskOptions options_;
  store::StateStore* const store_;
  // Held through a batch; views without a store take it too.
  mutable std::mutex mu_;
  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<codec::Decoder> decoder_;
  Outbox outbox_;
  std::optional<RoutingJoin> join_;  // with a store
  std::atomic<size_t> cache_entities_, cache_bytes_;
  std::atomic<size_t> hot_set_bytes_{0};
  std::atomic<int64_t> stream_time_{0};
  std::atomic<int64_t> committed_stream_time_{0};
  std::atomic<size_t> loaded_leads_{0}, loaded_accounts_{0};
  std::atomic<uint64_t> decay_checks_{0};
  std::atomic<int64_t> next_check_at_{INT64_MAX};
  // Where the next scan of the store's timer index starts (set at the end of a batch;
  // kScanAll: at the beginning, when nothing is known).
  static constexpr int64_t kScanAll = std::numeric_limits<int64_t>::min();
  int64_t timer_scan_from_ = kScanAll;
  uint64_t decay_checks_before_ = 0;  // the engines' before the last model change
  std::atomic<uint64_t> reevaluated_entities_{0};
  MidBatchHook mid_batch_hook_;
  ReevaluationHook reevaluation_hook_;
  size_t reevaluation_chunk_;
  ReevaluationOutcome resume_reevaluation_;
  // Leads handed between partitions: the next seq to send, the highest applied per
  // source, the sources this batch moved, and the batch's handoffs until its commit.
  uint64_t handoff_seq_ = 0;
  std::map<int32_t, uint64_t> handoff_applied_;
  std::set<int32_t> handoff_sources_moved_;
  std::vector<engine::Handoff> handoffs_;
  // An erasure was committed and its partition not yet scrubbed (see StateStore::Scrub).
  bool scrub_pending_ = false;
  std::chrono::steady_clock::time_point last_scrub_{};
};

}  // namespace leadscore::stream
