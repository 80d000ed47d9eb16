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

class PartitionTask {
 public:
  // `store` may be null (state in memory only); it outlives the task.
  PartitionTask(int32_t partition, std::shared_ptr<const model::Model> model, TaskOptions options,
                store::StateStore* store);
  PartitionTask(const PartitionTask&) = delete;
  PartitionTask& operator=(const PartitionTask&) = delete;

  // Resumes from the stored state: stream time, outbox. The offsets to resume reading
  // from, per topic (a topic missing: from its start). Refuses state of another model.
  Result<std::map<std::string, int64_t>> Resume();

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

  // Gauges, readable from any thread.
  int64_t stream_time() const { return stream_time_.load(std::memory_order_relaxed); }
  size_t loaded_leads() const { return loaded_leads_.load(std::memory_order_relaxed); }
  size_t loaded_accounts() const { return loaded_accounts_.load(std::memory_order_relaxed); }
  uint64_t decay_checks() const { return decay_checks_.load(std::memory_order_relaxed); }

  // Between batches only (replay, tests): the engine itself.
  engine::Engine& engine() { return engine_; }

  void set_mid_batch_hook(MidBatchHook hook) { mid_batch_hook_ = std::move(hook); }

 private:
  std::optional<engine::EntityView> View(engine::EntityKind kind, const std::string& id) const;
  void PublishGauges();
  Status ScrubIfDue();
  Status JoinOutcome(const InputRecord& record, BatchOutcome* out);
  // The engine's held runs that ended since the last call, into `out`.
  void CountSettled(BatchOutcome* out);

  const int32_t partition_;
  std::shared_ptr<const model::Model> model_;
  const TaskOptions options_;
  store::StateStore* const store_;
  // Held through a batch; views without a store take it too.
  mutable std::mutex mu_;
  engine::Engine engine_;
  codec::Decoder decoder_;
  Outbox outbox_;
  std::optional<RoutingJoin> join_;  // with a store
  std::atomic<size_t> cache_entities_;
  std::atomic<int64_t> stream_time_{0};
  std::atomic<int64_t> committed_stream_time_{0};
  std::atomic<size_t> loaded_leads_{0}, loaded_accounts_{0};
  std::atomic<uint64_t> decay_checks_{0};
  MidBatchHook mid_batch_hook_;
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
