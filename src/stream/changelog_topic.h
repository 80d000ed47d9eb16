// The changelog on Kafka (SPEC section 6): a compacted topic, `<group_id>-state` unless
// named, one partition per input partition, written and read by the store through its
// two faces (store/changelog.h). Its own idempotent producer, so a batch waits for its
// own records and not for routing events in flight; its own consumer, outside any group,
// assigned by hand to the partition being restored.
//
// Append may be called from several worker threads at once (one partition each): each
// waits for its own records' acknowledgements, whichever thread serves the reports.
// Reads come from one thread at a time (restores run on the service's loop thread).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "store/changelog.h"

struct rd_kafka_s;
struct rd_kafka_message_s;

namespace leadscore::stream {

struct PendingAppend;

struct ChangelogTopicOptions {
  std::string brokers;
  std::string topic;
  std::map<std::string, std::string> kafka;  // passed through to both clients
  // The topic needs a partition per input partition: as many as the input topic with
  // the most (at least `partitions`); created with them when missing.
  std::vector<std::string> input_topics;
  int partitions = 1;
  int replication_factor = -1;  // -1: the cluster's default
  int timeout_ms = 30000;       // a read that makes no progress this long fails
};

// A changelog record's value as the store wrote it: nullopt for a tombstone (no payload);
// an error for bytes that are not a leadscore state record.
Result<std::optional<std::string_view>> ChangelogValue(const void* payload, size_t len);

class KafkaChangelog : public store::ChangelogWriter, public store::ChangelogReader {
 public:
  // Opens both clients and makes sure the topic exists, compacted, with enough
  // partitions (a topic with fewer is refused, saying so).
  static Result<std::unique_ptr<KafkaChangelog>> Open(const ChangelogTopicOptions& options);
  ~KafkaChangelog() override;

  Result<int64_t> Append(int32_t partition, std::span<const store::ChangelogOp> ops) override;
  Result<std::pair<int64_t, int64_t>> Watermarks(int32_t partition) override;
  Status Read(int32_t partition, int64_t from, int64_t to, const Visit& fn) override;

  const std::string& topic() const { return options_.topic; }
  int partitions() const { return options_.partitions; }  // of the topic, at least the inputs'
  // The topic leads change partition through (README "A lead that changes partition"),
  // made like the changelog but not compacted.
  Status EnsureRepartitionTopic(const std::string& topic);
  const ChangelogTopicOptions& options() const { return options_; }
  // Records and bytes appended since Open (any thread).
  uint64_t appended_records() const { return appended_records_.load(std::memory_order_relaxed); }
  uint64_t appended_bytes() const { return appended_bytes_.load(std::memory_order_relaxed); }
  // Records handed to the producer and not yet acknowledged: a commit waits for them.
  uint64_t pending_records() const { return pending_records_.load(std::memory_order_relaxed); }

 private:
  KafkaChangelog() = default;
  Status EnsureTopic();
  // A topic with at least the inputs' partitions: made with `cleanup_policy` when
  // missing, refused when it has fewer. Its partition count.
  Result<int> EnsureInternalTopic(const std::string& name, const char* cleanup_policy);

  static void OnDelivery(rd_kafka_s*, const rd_kafka_message_s* m, void* opaque);
  void AwaitDeliveries(const PendingAppend& pending);

  ChangelogTopicOptions options_;
  rd_kafka_s* producer_ = nullptr;
  std::mutex delivery_mu_;
  std::condition_variable delivered_;
  bool polling_ = false;  // a thread is in rd_kafka_poll for the waiting appends
  rd_kafka_s* consumer_ = nullptr;
  std::atomic<uint64_t> appended_records_{0}, appended_bytes_{0}, pending_records_{0};
};

}  // namespace leadscore::stream
