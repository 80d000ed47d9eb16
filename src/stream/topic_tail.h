// Reads every partition of one topic from the beginning, outside any consumer group:
// what the demo uses to print routing events as a CRM queue would see them.
// Not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

struct rd_kafka_s;

namespace leadscore::stream {

struct TailRecord {
  std::string key, value;
  int32_t partition = 0;
  int64_t offset = 0;
  int64_t timestamp_ms = -1;  // the record's Kafka timestamp; -1 when it has none
  std::map<std::string, std::string> headers;
};

// Reads `topic` from the given offsets (a partition not named: from its start) up to the
// high watermarks at the time of the call: what is on the topic now, nothing later.
Result<std::vector<TailRecord>> ReadToEnd(const std::string& brokers, const std::map<std::string, std::string>& kafka,
                                          const std::string& topic, const std::map<int32_t, int64_t>& from,
                                          int timeout_ms);

// Every partition of `topic` with its low and high watermarks (the first offset the topic
// still retains, and the next one to be written). Empty: no such topic.
struct Watermark {
  int64_t low = 0, high = 0;
};
Result<std::map<int32_t, Watermark>> Watermarks(const std::string& brokers,
                                                const std::map<std::string, std::string>& kafka,
                                                const std::string& topic, int timeout_ms);

// Whether the cluster knows `topic` (ReadToEnd reads nothing from a missing topic).
Result<bool> TopicExists(const std::string& brokers, const std::map<std::string, std::string>& kafka,
                         const std::string& topic, int timeout_ms);

class TopicTail {
 public:
  // `kafka` overrides the consumer's settings (fetch.wait.max.ms is 10 ms unless set).
  static Result<std::unique_ptr<TopicTail>> Open(const std::string& brokers, const std::string& topic,
                                                 const std::map<std::string, std::string>& kafka = {});
  ~TopicTail();
  // The records that arrived, waiting at most timeout_ms for the first.
  std::vector<TailRecord> Poll(int timeout_ms);
  // The value a consumer property has in this reader; empty when unknown or unset.
  std::string Setting(const std::string& name) const;

 private:
  TopicTail() = default;
  rd_kafka_s* rk_ = nullptr;
};

}  // namespace leadscore::stream
