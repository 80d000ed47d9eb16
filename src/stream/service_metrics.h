// The service's metrics: what the loop counts after each batch, and the Prometheus text
// made from it together with the tasks' gauges. Every method is thread-safe and holds
// only this object's own lock, briefly: a scrape never waits for a batch.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "codec/codec.h"
#include "engine/engine.h"
#include "metrics/metrics.h"
#include "stream/partition_task.h"

namespace leadscore::stream {

// Counters, readable from any thread (tests, the summary line).
// consumed = processed + skipped + dead_letters, once a batch is done.
struct ServiceCounters {
  std::atomic<uint64_t> consumed{0}, processed{0}, skipped{0}, dead_letters{0}, routed{0}, batches{0};
};

class ServiceMetrics {
 public:
  ServiceMetrics();
  // The model's filters, by index: each is a skip reason "filter:NAME", with a series
  // from the start.
  void SetFilters(const std::vector<model::Filter>& filters);

  // A batch was read: records per topic, and the next offset of each input partition.
  void Consumed(const std::map<std::pair<std::string, int32_t>, int64_t>& next_offsets,
                const std::map<std::string, uint64_t>& per_topic, uint64_t records);
  // Where an assigned partition resumes (-1: at its start).
  void Resumed(const std::string& topic, int32_t partition, int64_t next_offset);
  // A partition left: its series go with it.
  void Revoked(int32_t partition);
  void DeadLetter(codec::Refusal reason);
  // Processed (applied, and held events scored when their run ended), skipped (by
  // reason, filters included), routing events.
  void Outcome(const BatchOutcome& outcome);
  void Batch(double process_seconds, double commit_seconds, size_t records);

  // The next offset of an input partition as last read or resumed; -1: its start or unknown.
  int64_t Position(const std::string& topic, int32_t partition) const;

  const ServiceCounters& counters() const { return counters_; }
  std::map<std::string, uint64_t> DeadLettersByReason() const;
  // Skips by metric label ("duplicate", "filter:mail_scanner", ...), those not zero.
  std::map<std::string, uint64_t> SkippedByReason() const;

  // What the text needs that lives elsewhere, each read without waiting for a batch.
  struct Sources {
    std::vector<std::shared_ptr<PartitionTask>> tasks;
    // Cached low and high watermarks of an input partition (-1: unknown).
    std::function<std::pair<int64_t, int64_t>(const std::string& topic, int32_t partition)> watermarks;
    bool has_store = false;
    double state_bytes = 0, cache_hit_ratio = 0;
    bool ready = false;
  };
  std::string Text(const Sources& s) const;

  // Records behind the high watermark; a partition never read (next offset -1) counts
  // from its low watermark (0 when unknown), so an empty one has no lag.
  static int64_t Lag(int64_t next_offset, int64_t low, int64_t high);

 private:
  mutable std::mutex mu_;
  ServiceCounters counters_;
  std::map<std::string, uint64_t> consumed_by_topic_;
  std::map<codec::Refusal, uint64_t> dead_letters_;
  std::map<engine::ApplyOutcome, uint64_t> skipped_;
  std::vector<std::pair<std::string, uint64_t>> filtered_;  // by filter index: "filter:NAME", count
  std::map<std::tuple<std::string, std::string, std::string>, uint64_t> routed_;  // entity, direction, tier
  std::map<std::pair<std::string, int32_t>, int64_t> positions_;  // next offset per input partition; -1: its start
  metrics::Histogram batch_seconds_, commit_seconds_;
  metrics::Histogram batch_records_{{1, 10, 100, 1000, 10000, 100000}};
};

}  // namespace leadscore::stream
