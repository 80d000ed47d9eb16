// The streaming service's processing loop: Kafka records in, decoded and scored by one
// engine per input partition, routing events and dead letters out.
//
// Exactly-once routing (with a state dir): a batch's state changes, input offsets and
// routing events (the outbox) are one RocksDB write; the outbox is then published with
// the idempotent producer and removed once delivered, with the output offsets the
// deliveries reached. An outbox found on restart is first checked against the output
// topic from those offsets to its end, and only what is not there is published.
//
// The engines hold a hot set of entities: the rest stays in RocksDB and is loaded when an
// input or a due decay check (the store's timer index) needs it; the least recently
// touched are evicted past `cache_entities`.
//
// Inputs must be co-partitioned (same partition count, keyed by account_id with the
// default partitioner): partition N of every input topic is one unit of state.
// Not thread-safe except where noted: RunOnce/Run belong to one processing thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <tuple>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "codec/codec.h"
#include "common/status.h"
#include "engine/engine.h"
#include "server/metrics.h"
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
  std::map<std::string, std::string> kafka;           // librdkafka properties for both clients
  std::map<std::string, std::string> kafka_consumer;  // ... for the consumer only
  std::map<std::string, std::string> kafka_producer;  // ... for the producer only
  size_t max_batch = 10000;                  // records per processing batch
  int max_wait_ms = 50;                      // wait for the first record of a batch
  int64_t max_future_skew_ms = 3600 * 1000;  // events further ahead of the clock go to the DLQ
  codec::DecoderOptions decoder;             // size limits of ids and attributes
  int flush_timeout_ms = 30000;
  engine::EngineOptions engine;
  // RocksDB state; empty dir: state in memory only, resuming from the group's offsets,
  // routing events at least once.
  store::StoreOptions store;
  size_t cache_entities = 500'000;  // leads + accounts held in memory, all partitions (~3 KiB each)
};

// Counters, readable from any thread (metrics).
// consumed = processed + skipped + dead_letters, once a batch is done.
struct ServiceCounters {
  std::atomic<uint64_t> consumed{0}, processed{0}, skipped{0}, dead_letters{0}, routed{0}, batches{0};
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

  // One batch: poll, decode, load, score, commit with the outbox, publish. After an
  // error (state that cannot be written, a delivery refused for good) it consumes no
  // more and returns that error: not ready, not healthy, nothing lost.
  Status RunOnce();
  // Batches until `stop` is set; then finishes the batch, commits and closes. With
  // `until_caught_up`, also returns once every input partition is read to its end and
  // every routing event is delivered.
  Status Run(const std::atomic<bool>& stop, bool until_caught_up = false);
  // Every assigned input partition read to the end and the outbox delivered.
  bool CaughtUp();

  const ServiceCounters& counters() const { return counters_; }
  std::map<std::string, uint64_t> DeadLettersByReason() const;

  // Thread-safe readers, for the HTTP server.
  std::optional<engine::EntityView> ViewLead(const std::string& id) const;
  std::optional<engine::EntityView> ViewAccount(const std::string& id) const;
  std::string MetricsText() const;  // Prometheus text exposition
  bool Ready() const;               // partitions assigned, their state resumed, no fatal error
  bool Healthy() const;             // the processing loop has not failed
  const std::string& model_version() const { return model_->version; }

 private:
  struct Partition;
  Service() = default;
  struct Decoded;
  Status Batch();
  std::optional<std::map<std::string, int64_t>> Assign(int32_t partition);
  void Apply(Partition& part, const engine::Input& input, std::vector<engine::RoutingEvent>* events);
  Status CommitState(const std::map<std::pair<std::string, int32_t>, int64_t>& next_offsets,
                     std::map<int32_t, std::vector<engine::RoutingEvent>>& events);
  Status Reconcile(int32_t p, Partition& part);
  std::map<std::string, std::string> ConsumerProperties() const;
  Status Publish(bool wait);
  Status FlushSink();
  bool ReadyLocked() const;  // mu_ held
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
  // Guards partitions_ and the maps below against the HTTP threads. Recursive: the
  // rebalance callback (inside Poll) and the batch both reach Assign.
  mutable std::recursive_mutex mu_;
  const std::atomic<bool>* stop_ = nullptr;  // set by Run: a publish waiting for the broker gives up
  std::map<std::string, uint64_t> dlq_by_reason_;
  std::map<std::string, uint64_t> skipped_by_reason_;
  std::map<std::string, uint64_t> consumed_by_topic_;
  std::map<std::tuple<std::string, std::string, std::string>, uint64_t> routed_by_;  // entity, direction, tier
  std::map<std::pair<std::string, int32_t>, int64_t> positions_;  // next offset per input partition; -1: its start
  server::Histogram batch_seconds_, commit_seconds_;
  server::Histogram batch_records_{{1, 10, 100, 1000, 10000, 100000}};
  std::atomic<bool> failed_{false};
  Status first_error_;  // what failed_ the processing loop
};

}  // namespace leadscore::stream
