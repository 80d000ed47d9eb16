// The service's metrics: what the loop counts as it goes, in a metrics::Registry, and
// what a scrape reads from elsewhere (the tasks' gauges, lag, RocksDB, librdkafka's
// statistics) through Sources. Every method is thread-safe and holds only its own locks
// (this object's, the registry's families'), each for a moment: a scrape never waits
// for a batch.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "codec/codec.h"
#include "engine/engine.h"
#include "metrics/metrics.h"
#include "model/model.h"
#include "stream/kafka_stats.h"
#include "stream/partition_task.h"

namespace leadscore::stream {

// Counters, readable from any thread (tests, the summary line).
// consumed = processed + skipped + dead_letters, once a batch is done.
struct ServiceCounters {
  std::atomic<uint64_t> consumed{0}, processed{0}, skipped{0}, dead_letters{0}, routed{0}, batches{0};
};

class ServiceMetrics {
 public:
  // `version`: leadscore's own, for leadscore_build_info.
  explicit ServiceMetrics(const std::string& version = kBuildVersion);
  static const char* const kBuildVersion;  // the CMake project version

  // The series known before anything happens, so that each starts at 0: the input
  // topics, and every tier of the model (routing events per entity and direction).
  void InputTopics(const std::vector<std::string>& topics);
  // The running model: leadscore_model_info names its version (the previous one goes).
  // Also its filters: each is a skip reason "filter:NAME", with a series from the start.
  void ModelLoaded(const model::Model& model);

  // A batch was read: records per topic, and the next offset of each input partition.
  void Consumed(const std::map<std::pair<std::string, int32_t>, int64_t>& next_offsets,
                const std::map<std::string, uint64_t>& per_topic, uint64_t records);
  // A partition was assigned: its state is being resumed (restoring) until
  // ResumeFinished, which records how long that took, whether it worked or not.
  void ResumeStarted();
  void ResumeFinished(double seconds);
  // A partition's state was restored from its changelog: records and bytes read.
  void Restored(uint64_t records, uint64_t bytes);
  // Where an assigned partition resumes (-1: at its start).
  void Resumed(const std::string& topic, int32_t partition, int64_t next_offset);
  // A partition left: its series go with it.
  void Revoked(int32_t partition);
  // A commit (merged writes: the batches processed since the last one) was made at
  // `unix_seconds` (wall time), taking `seconds` with its dead letters' delivery, or
  // could not be.
  void Committed(double unix_seconds, double seconds, size_t batches);
  void CommitFailed();
  void DeadLetter(codec::Refusal reason);
  // Processed (applied, and held events scored when their run ended), skipped (by
  // reason, filters included), routing events.
  void Outcome(const BatchOutcome& outcome);
  // A task's decay checks since it was assigned, after a batch: the counter takes the
  // increase, so it never falls when a partition leaves.
  void DecayChecks(int32_t partition, uint64_t since_assigned);
  // A batch was processed (decoded, scored; committed later, with others).
  void Batch(double process_seconds, size_t records);
  // The records the next poll may take under batch.max_process_ms.
  void BatchLimit(size_t records) { batch_limit_.Set(static_cast<double>(records)); }
  // A model change's passes: entities re-evaluated, and the assigned partitions not yet
  // under the running model.
  void Reevaluated(uint64_t entities);
  void ReevaluationPending(int partitions);

  // The next offset of an input partition as last read or resumed; -1: its start or unknown.
  int64_t Position(const std::string& topic, int32_t partition) const;

  const ServiceCounters& counters() const { return counters_; }
  std::map<std::string, uint64_t> DeadLettersByReason() const;
  std::map<std::string, uint64_t> SkippedByReason() const;  // skip reasons and filter:NAME, where not 0

  // What a scrape reads that lives elsewhere, each without waiting for a batch. Unset
  // functions read as nothing (no tasks, no store, not ready).
  struct Sources {
    std::function<std::vector<std::shared_ptr<PartitionTask>>()> tasks;
    // Cached low and high watermarks of an input partition (-1: unknown).
    std::function<std::pair<int64_t, int64_t>(const std::string& topic, int32_t partition)> watermarks;
    std::function<store::StateStore::Stats()> store;  // unset: no store
    std::function<uint64_t()> producer_errors;  // deliveries that failed, since start
    std::function<uint64_t()> consumer_errors;  // errors the consumer reported, since start
    std::function<KafkaStats()> consumer_stats, producer_stats;  // librdkafka's statistics
    std::function<bool()> ready;
    struct ChangelogCounts {
      uint64_t records = 0, bytes = 0, pending = 0;  // written since start; waiting for the broker now
    };
    std::function<ChangelogCounts()> changelog;  // unset: no changelog
    std::function<std::pair<uint64_t, uint64_t>()> standby;  // partitions followed, records applied; unset: none
  };
  void SetSources(Sources sources);
  std::string Text() const;

  // Records behind the high watermark; a partition never read (next offset -1) counts
  // from its low watermark (0 when unknown), so an empty one has no lag.
  static int64_t Lag(int64_t next_offset, int64_t low, int64_t high);

 private:
  void Collect(metrics::Collection& out) const;  // what Sources say, on a scrape
  static void CollectKafka(const Sources& s, metrics::Collection& out);

  metrics::Registry registry_;
  mutable std::mutex mu_;
  ServiceCounters counters_;
  Sources sources_;
  std::map<std::pair<std::string, int32_t>, int64_t> positions_;  // next offset per input partition; -1: its start
  std::map<int32_t, uint64_t> decay_checks_seen_;                 // per partition, as last counted
  metrics::Counter decay_checks_;
  std::string model_version_;  // mu_
  metrics::GaugeFamily model_info_;
  metrics::CounterFamily consumed_, routed_, outcomes_;
  metrics::Counter processed_;
  std::map<codec::Refusal, metrics::Counter> dead_letters_;
  metrics::CounterFamily skipped_family_;
  std::map<engine::ApplyOutcome, metrics::Counter> skipped_;
  std::vector<metrics::Counter> filtered_;  // by the model's filter index: reason "filter:NAME"
  std::vector<std::string> filter_names_;
  std::map<std::string, metrics::Counter> rebalances_;  // by kind: assign, revoke
  std::map<std::string, metrics::Counter> handoffs_;    // leadscore_lead_handoffs_total by what
  metrics::Gauge restoring_, last_commit_, batch_limit_;
  metrics::Counter restored_records_, restored_bytes_;
  metrics::Counter commit_failures_;
  metrics::Counter reevaluated_;
  metrics::Gauge reevaluation_pending_;
  metrics::Histogram batch_seconds_, commit_seconds_, commit_batches_, batch_records_, resume_seconds_;
};

}  // namespace leadscore::stream
