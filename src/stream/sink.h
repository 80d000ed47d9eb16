// The Kafka sink: an idempotent producer for routing events and dead letters. Produce
// queues without waiting; Flush() waits for every delivery report of what was queued
// and says whether all of them succeeded. Delivery reports are handled on the calling
// thread (from Flush/Poll). Not thread-safe: one processing thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "stream/kafka_stats.h"

struct rd_kafka_s;

namespace leadscore::stream {

struct SinkOptions {
  std::string brokers;
  std::map<std::string, std::string> kafka;  // passed through to librdkafka as is
};

class KafkaSink {
 public:
  static Result<std::unique_ptr<KafkaSink>> Open(const SinkOptions& options);
  ~KafkaSink();

  // `tag` (not 0) comes back from TakeDeliveredTags() once the record is delivered.
  // `partition` < 0: the partitioner's choice by key.
  Status Produce(const std::string& topic, const std::string& key, const std::string& value,
                 const std::vector<std::pair<std::string, std::string>>& headers = {}, uint64_t tag = 0,
                 int32_t partition = -1);
  // Waits for all outstanding deliveries; an error if any failed since the last Flush.
  Status Flush(int timeout_ms);
  bool InFlight() const;  // records produced whose delivery report has not been served yet
  // Per topic and partition: one past the highest offset delivered since the last call.
  std::map<std::pair<std::string, int32_t>, int64_t> TakeDelivered();
  std::vector<uint64_t> TakeDeliveredTags();
  // Partition -> high watermark of `topic`, as the broker says now.
  Result<std::map<int32_t, int64_t>> HighWatermarks(const std::string& topic, int timeout_ms) const;
  // The topic's partitions and leaders known before its first record (kafka_handle.h).
  Status LearnTopic(const std::string& topic, int timeout_ms);
  // Serves delivery reports, waiting at most timeout_ms for one.
  void Poll(int timeout_ms = 0) const;
  // Deliveries that failed since Open (Flush reports them too). Any thread.
  uint64_t delivery_errors() const { return delivery_errors_.load(std::memory_order_relaxed); }

  // From librdkafka's delivery report callback.
  void OnDelivery(int err, const char* topic, int32_t partition, int64_t offset, uint64_t tag);
  // librdkafka's statistics (every `statistics.interval.ms`, 5000 unless set; served
  // from Flush/Poll). Any thread.
  void OnStatistics(std::string_view json) { stats_.Update(json); }
  KafkaStats statistics() const { return stats_.Get(); }

 private:
  KafkaSink() = default;
  rd_kafka_s* rk_ = nullptr;
  int failed_ = 0;  // since the last Flush
  std::atomic<uint64_t> delivery_errors_{0};
  std::atomic<uint64_t> outstanding_{0};  // produced, delivery report not yet served
  KafkaStatsHolder stats_;
  std::string last_error_;
  std::map<std::pair<std::string, int32_t>, int64_t> delivered_;
  std::vector<uint64_t> delivered_tags_;
};

}  // namespace leadscore::stream
