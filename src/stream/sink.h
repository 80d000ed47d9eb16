// The Kafka sink: an idempotent producer for routing events and dead letters. Produce
// queues without waiting; Flush() waits for every delivery report of what was queued
// and says whether all of them succeeded. Delivery reports are handled on the calling
// thread (from Flush/Poll). Not thread-safe: one processing thread.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

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

  Status Produce(const std::string& topic, const std::string& key, const std::string& value,
                 const std::vector<std::pair<std::string, std::string>>& headers = {});
  // Waits for all outstanding deliveries; an error if any failed since the last Flush.
  Status Flush(int timeout_ms);
  // Serves delivery reports, waiting at most timeout_ms for one.
  void Poll(int timeout_ms = 0) const;

  void OnDelivery(int err);  // from librdkafka's delivery report callback

 private:
  KafkaSink() = default;
  rd_kafka_s* rk_ = nullptr;
  int failed_ = 0;
  std::string last_error_;
};

}  // namespace leadscore::stream
