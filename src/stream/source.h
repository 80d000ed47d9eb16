// The Kafka source: a consumer-group member subscribed to the input topics. Poll()
// returns a batch of raw records; partition assignment changes reach the caller
// through on_assign / on_revoke, called inside Poll (librdkafka runs the rebalance
// callback on the polling thread); the caller owns the per-partition state.
// Not thread-safe: one processing thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "stream/kafka_stats.h"

struct rd_kafka_s;
struct rd_kafka_message_s;

namespace leadscore::stream {

struct SourceRecord {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  std::string key, value;
  bool has_key = false;
};

struct SourceOptions {
  std::string brokers;
  std::string group_id = "leadscore";
  std::vector<std::string> topics;
  std::map<std::string, std::string> kafka;  // passed through to librdkafka as is
  size_t max_batch = 10000;
  int max_wait_ms = 50;
  // Called on the polling thread when a partition number is assigned: the offsets to
  // resume from, per topic (a topic missing from the map starts at its beginning), or
  // nullopt to resume from the group's committed offsets.
  std::function<std::optional<std::map<std::string, int64_t>>(int32_t partition)> on_assign;
  std::function<void(int32_t partition)> on_revoke;
};

class KafkaSource {
 public:
  static Result<std::unique_ptr<KafkaSource>> Open(const SourceOptions& options);
  ~KafkaSource();

  // Up to max_batch records (and at most `limit`, when given), waiting at most
  // max_wait_ms for the first (or `wait_ms`, when given). What is left stays queued for
  // the next poll.
  Status Poll(std::vector<SourceRecord>* out, size_t limit = 0, std::optional<int> wait_ms = std::nullopt);
  // Commits the offsets after the records processed so far, asynchronously: they are
  // for lag dashboards and tools; the service resumes from the offsets in its state.
  Status Commit(const std::map<std::pair<std::string, int32_t>, int64_t>& next_offsets);
  void Close();
  // The last low and high watermarks librdkafka saw for the partition (no network); -1
  // unknown (the low one is known only where statistics are on). Any thread.
  std::pair<int64_t, int64_t> CachedWatermarks(const std::string& topic, int32_t partition) const;
  // The value a consumer property has in this consumer (the defaults of
  // AddConsumerDefaults, then the config's); empty when librdkafka has no such property
  // or it is unset. Any thread.
  std::string Setting(const std::string& name) const;
  // Low and high watermarks, asked of the broker.
  Result<std::pair<int64_t, int64_t>> QueryWatermarks(const std::string& topic, int32_t partition,
                                                      int timeout_ms) const;

  // Called from librdkafka's rebalance callback (on the polling thread).
  void OnRebalance(int err, void* partitions);
  // librdkafka's statistics (every `statistics.interval.ms`, 5000 unless set; served on
  // the polling thread), and the errors the consumer reported through Poll since Open:
  // fetch errors, brokers down, unknown topics. Any thread.
  void OnStatistics(std::string_view json) { stats_.Update(json); }
  KafkaStats statistics() const { return stats_.Get(); }
  uint64_t errors() const { return errors_.load(std::memory_order_relaxed); }

 private:
  KafkaSource() = default;
  rd_kafka_s* rk_ = nullptr;
  void* queue_ = nullptr;
  SourceOptions options_;
  std::vector<rd_kafka_message_s*> batch_;  // reused by every Poll
  bool closed_ = false;
  KafkaStatsHolder stats_;
  std::atomic<uint64_t> errors_{0};
};

}  // namespace leadscore::stream
