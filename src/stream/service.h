// The streaming service's processing loop: Kafka records in, decoded and scored by one
// engine per input partition, routing events and dead letters out, offsets committed
// after the outputs of a batch are delivered.
//
// Inputs must be co-partitioned (same partition count, keyed by account_id with the
// default partitioner): partition N of every input topic is one unit of state.
// Not thread-safe except where noted: RunOnce/Run belong to one processing thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "codec/codec.h"
#include "common/status.h"
#include "engine/engine.h"
#include "store/state_store.h"

namespace leadscore::stream {

struct InputTopic {
  std::string name;
  codec::Format format = codec::Format::kProtobuf;
};

struct ServiceOptions {
  std::string brokers;
  std::string group_id = "leadscore";
  std::vector<InputTopic> inputs = {{"engagement-events"}, {"profiles"}, {"sales-outcomes"}};
  std::string output_topic = "routing-events";
  codec::Format output_format = codec::Format::kProtobuf;
  std::string dlq_topic = "leadscore-dlq";
  std::map<std::string, std::string> kafka;  // librdkafka properties, for consumer and producer
  size_t max_batch = 10000;                  // records per processing batch
  int max_wait_ms = 50;                      // wait for the first record of a batch
  int64_t max_future_skew_ms = 3600 * 1000;  // events further ahead of the clock go to the DLQ
  int flush_timeout_ms = 30000;
  engine::EngineOptions engine;
  // RocksDB state; empty dir: state in memory only, resuming from the group's offsets.
  store::StoreOptions store;
};

// Counters, readable from any thread (metrics).
struct ServiceCounters {
  std::atomic<uint64_t> consumed{0}, processed{0}, dead_letters{0}, routed{0}, batches{0};
  std::atomic<uint64_t> assigned_partitions{0};
};

class KafkaSource;
class KafkaSink;
struct SourceRecord;

class Service {
 public:
  using Clock = std::function<int64_t()>;  // Unix ms; the service's only clock

  static Result<std::unique_ptr<Service>> Start(std::shared_ptr<const model::Model> model, ServiceOptions options,
                                                Clock clock);
  ~Service();

  // One batch: poll, decode, score, produce, flush, commit.
  Status RunOnce();
  // Batches until `stop` is set; then finishes the batch, commits and closes.
  Status Run(const std::atomic<bool>& stop);

  const ServiceCounters& counters() const { return counters_; }
  std::map<std::string, uint64_t> DeadLettersByReason() const;

 private:
  struct Partition;
  Service() = default;
  std::optional<std::map<std::string, int64_t>> Assign(int32_t partition);
  Status CommitState(const std::map<std::pair<std::string, int32_t>, int64_t>& next_offsets);
  Status DeadLetter(const SourceRecord& r, const Status& why);

  std::shared_ptr<const model::Model> model_;
  ServiceOptions options_;
  Clock clock_;
  std::unique_ptr<KafkaSource> source_;
  std::unique_ptr<KafkaSink> sink_;
  std::unique_ptr<store::StateStore> store_;
  Status fatal_;  // set where an error cannot be returned (the rebalance callback)
  std::map<int32_t, std::unique_ptr<Partition>> partitions_;
  std::map<std::string, codec::Format> format_of_;
  ServiceCounters counters_;
  std::map<std::string, uint64_t> dlq_by_reason_;
};

}  // namespace leadscore::stream
