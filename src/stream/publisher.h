// The publisher: everything the service writes to Kafka, through one idempotent
// producer. Routing events leave the partitions' outboxes in order, tagged, and come
// back as delivery reports that are recorded in the store; dead letters go to the DLQ
// unchanged with their reason; an outbox left by an earlier run is first checked
// against the output topic. (Kafka Streams calls this the RecordCollector.)
//
// Called from the service's loop thread only, between batches.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "store/state_store.h"
#include "stream/kafka_stats.h"
#include "stream/options.h"
#include "stream/partition_task.h"

namespace leadscore::stream {

class KafkaSink;
struct SourceRecord;

class Publisher {
 public:
  static Result<std::unique_ptr<Publisher>> Open(const ServiceOptions& options, store::StateStore* store);
  ~Publisher();

  // Set by the loop: a wait for the broker gives up once it is set.
  void set_stop(const std::atomic<bool>* stop) { stop_ = stop; }

  // A refused record to the DLQ, unchanged, with headers error / source.*.
  Status DeadLetter(const SourceRecord& r, const Refused& why);
  // Waits for every queued delivery (a broker away is waited for, unless stopping).
  Status Flush();

  // A newly resumed task with no recorded output offsets: everything it publishes from
  // now on lands at or past today's ends of the output topic.
  void RecordOutputEnds(PartitionTask& task);
  // Drops from the task's outbox what an earlier run published but did not live to
  // record: the output topic is read from the recorded offsets to its end.
  Status Check(PartitionTask& task);
  // Hands the tasks' new outbox records to the producer and records what was delivered
  // since. With `wait`, waits for every delivery first.
  Status Publish(const std::vector<PartitionTask*>& tasks, bool wait);
  // Serves delivery reports without waiting.
  void Poll();
  bool InFlight() const;
  // Deliveries that failed since Open, and the producer's statistics. Any thread.
  uint64_t DeliveryErrors() const;
  KafkaStats ProducerStatistics() const;

 private:
  Publisher() = default;
  std::map<std::string, std::string> ConsumerProperties() const;

  ServiceOptions options_;
  store::StateStore* store_ = nullptr;
  std::unique_ptr<KafkaSink> sink_;
  const std::atomic<bool>* stop_ = nullptr;
};

}  // namespace leadscore::stream
