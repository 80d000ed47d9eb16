// The Kafka source: a consumer-group member subscribed to the input topics. Poll()
// returns a batch of raw records; partition assignment changes are collected as they
// happen inside Poll (librdkafka calls the rebalance callback on the polling thread)
// and handed to the caller, which owns the per-partition state.
// Not thread-safe: one processing thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"

struct rd_kafka_s;

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
};

// Assignment changes since the last Poll.
struct Rebalance {
  std::set<int32_t> assigned, revoked;  // partition numbers (inputs are co-partitioned)
};

class KafkaSource {
 public:
  static Result<std::unique_ptr<KafkaSource>> Open(const SourceOptions& options);
  ~KafkaSource();

  // Up to max_batch records, waiting at most max_wait_ms for the first.
  Status Poll(std::vector<SourceRecord>* out, Rebalance* rebalance);
  // Commits the offsets after the records processed so far, synchronously.
  Status Commit(const std::map<std::pair<std::string, int32_t>, int64_t>& next_offsets);
  void Close();

  // Called from librdkafka's rebalance callback (on the polling thread).
  void OnRebalance(int err, void* partitions);

 private:
  KafkaSource() = default;
  rd_kafka_s* rk_ = nullptr;
  void* queue_ = nullptr;
  SourceOptions options_;
  Rebalance pending_;
  bool closed_ = false;
};

}  // namespace leadscore::stream
