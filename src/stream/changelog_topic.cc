#include "stream/changelog_topic.h"

#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "stream/kafka_handle.h"

namespace leadscore::stream {
namespace {

// A value on the topic is this byte and the store's value; a deleted key is a record
// without a value (a tombstone). An empty store value (the timer index has them) must
// not read as a tombstone, and Kafka clients may send an empty value as none at all.
constexpr char kValueTag = 'v';

}  // namespace

// One Append's records on their way: the delivery callback counts them down.
struct PendingAppend {
  std::atomic<size_t> remaining{0};
  std::atomic<int64_t> last_offset{-1};
  std::atomic<int> error{RD_KAFKA_RESP_ERR_NO_ERROR};
};

Result<std::optional<std::string_view>> ChangelogValue(const void* payload, size_t len) {
  if (!payload) return std::optional<std::string_view>();
  const std::string_view tagged(static_cast<const char*>(payload), len);
  if (tagged.empty() || tagged[0] != kValueTag) return Status::Corruption("not a leadscore state record");
  return std::optional<std::string_view>(tagged.substr(1));
}

Result<std::unique_ptr<KafkaChangelog>> KafkaChangelog::Open(const ChangelogTopicOptions& options) {
  std::unique_ptr<KafkaChangelog> c(new KafkaChangelog());
  c->options_ = options;
  char err[512];

  std::map<std::string, std::string> producer = {
      {"bootstrap.servers", options.brokers},
      {"enable.idempotence", "true"},  // no duplicates or reordering from retries
      {"acks", "all"},
      // A batch waits for its changelog records before it commits: send them at once.
      {"linger.ms", "0"},
      {"log_level", "4"},
  };
  for (const auto& [k, v] : options.kafka) producer[k] = v;
  auto pconf = MakeConf(producer);
  if (!pconf.ok()) return pconf.status();
  rd_kafka_conf_set_dr_msg_cb(pconf->get(), &KafkaChangelog::OnDelivery);
  rd_kafka_conf_set_opaque(pconf->get(), c.get());
  c->producer_ = rd_kafka_new(RD_KAFKA_PRODUCER, pconf->release(), err, sizeof err);
  if (!c->producer_) return Status::InvalidArgument(std::string("changelog producer: ") + err);

  auto consumer = HandAssignedConsumer(options.brokers, "leadscore-restore", options.kafka,
                                       {{"enable.partition.eof", "true"}, {"fetch.wait.max.ms", "10"}, {"log_level", "4"}});
  if (!consumer.ok()) return consumer.status();
  c->consumer_ = consumer->release();
  LEADSCORE_RETURN_IF_ERROR(c->EnsureTopic());
  if (Status known = LearnTopic(c->producer_, options.topic, options.timeout_ms); !known.ok()) {
    spdlog::warn("changelog {}: {} (the first commit learns it)", options.topic, known.message());
  }
  return c;
}

void KafkaChangelog::OnDelivery(rd_kafka_s*, const rd_kafka_message_s* m, void* opaque) {
  auto* pending = static_cast<PendingAppend*>(m->_private);
  if (!pending) return;
  if (m->err) {
    pending->error.store(m->err);
  } else {
    int64_t seen = pending->last_offset.load();
    while (m->offset > seen && !pending->last_offset.compare_exchange_weak(seen, m->offset)) {
    }
  }
  if (pending->remaining.fetch_sub(1) > 1) return;
  // The append's last report: its thread may be asleep while this one polls. (Taking the
  // lock orders the wake after the count the waiter checks under it.)
  auto* self = static_cast<KafkaChangelog*>(opaque);
  std::lock_guard lock(self->delivery_mu_);
  self->delivered_.notify_all();
}

// Delivery reports are served by whichever thread polls, and a thread whose reports
// another thread served would sleep out its own poll's timeout (measured at 40 k records/s:
// a partition's append averaged 4.2 ms that way, 1.6 ms with this). So one
// waiting thread at a time polls; the others sleep until the callback reports their
// last record, or until the poller leaves and one of them takes over. (A sleeper also
// looks again after a poll's timeout, so a missed wake costs that, never a hang.)
void KafkaChangelog::AwaitDeliveries(const PendingAppend& pending) {
  constexpr auto kPollTimeout = std::chrono::milliseconds(5);
  std::unique_lock lock(delivery_mu_);
  while (pending.remaining.load() > 0) {
    if (polling_) {
      delivered_.wait_for(lock, kPollTimeout);
      continue;
    }
    polling_ = true;
    lock.unlock();
    rd_kafka_poll(producer_, static_cast<int>(kPollTimeout.count()));
    lock.lock();
    polling_ = false;
  }
  delivered_.notify_all();  // a waiter may be asleep with no one polling: hand over
}

KafkaChangelog::~KafkaChangelog() {
  if (producer_) {
    rd_kafka_flush(producer_, 5000);
    rd_kafka_destroy(producer_);
  }
  if (consumer_) {
    rd_kafka_consumer_close(consumer_);
    rd_kafka_destroy(consumer_);
  }
}

Status KafkaChangelog::EnsureTopic() {
  for (const auto& input : options_.input_topics) {
    auto partitions = TopicPartitions(consumer_, input, options_.timeout_ms);
    if (!partitions.ok()) return partitions.status();
    options_.partitions = std::max(options_.partitions, static_cast<int>(partitions->size()));
  }
  auto have = EnsureInternalTopic(options_.topic, "compact");
  if (!have.ok()) return have.status();
  options_.partitions = *have;
  return Status::Ok();
}

Status KafkaChangelog::EnsureRepartitionTopic(const std::string& topic) {
  auto have = EnsureInternalTopic(topic, "delete");
  return have.ok() ? Status::Ok() : have.status();
}

Result<int> KafkaChangelog::EnsureInternalTopic(const std::string& name, const char* cleanup_policy) {
  auto existing = TopicPartitions(consumer_, name, options_.timeout_ms);
  if (!existing.ok()) return existing.status();
  if (!existing->empty()) {
    const int have = static_cast<int>(existing->size());
    if (have < options_.partitions) {
      return Status::InvalidArgument("topic " + name + " has " + std::to_string(existing->size()) +
                                     " partitions, the inputs " + std::to_string(options_.partitions) +
                                     ": it needs one per input partition");
    }
    return have;
  }
  // The changelog is compacted: the log keeps the latest value of every key (the
  // state), and a deleted key's tombstone until delete.retention.ms has passed.
  char err[512];
  rd_kafka_NewTopic_t* topic =
      rd_kafka_NewTopic_new(name.c_str(), options_.partitions, options_.replication_factor, err, sizeof err);
  if (!topic) return Status::InvalidArgument("topic " + name + ": " + std::string(err));
  rd_kafka_NewTopic_set_config(topic, "cleanup.policy", cleanup_policy);
  // A handoff is read within seconds; a day bounds how long a lead's state stays there.
  if (std::string_view(cleanup_policy) == "delete") rd_kafka_NewTopic_set_config(topic, "retention.ms", "86400000");
  rd_kafka_queue_t* queue = rd_kafka_queue_new(producer_);
  rd_kafka_CreateTopics(producer_, &topic, 1, nullptr, queue);
  rd_kafka_event_t* ev = rd_kafka_queue_poll(queue, options_.timeout_ms);
  Status result = Status::Unavailable("creating topic " + name + " timed out");
  if (ev) {
    if (rd_kafka_event_error(ev)) {
      result = Status::Unavailable("creating topic " + name + ": " + rd_kafka_event_error_string(ev));
    } else {
      size_t n = 0;
      const rd_kafka_topic_result_t** results =
          rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
      result = Status::Ok();
      for (size_t i = 0; i < n; ++i) {
        const auto code = rd_kafka_topic_result_error(results[i]);
        if (code && code != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
          result = Status::Unavailable("creating topic " + name + ": " + rd_kafka_err2str(code));
        }
      }
    }
    rd_kafka_event_destroy(ev);
  }
  rd_kafka_queue_destroy(queue);
  rd_kafka_NewTopic_destroy(topic);
  if (!result.ok()) return result;
  spdlog::info("topic {} created: {} partitions, cleanup.policy={}", name, options_.partitions, cleanup_policy);
  return options_.partitions;
}

Result<int64_t> KafkaChangelog::Append(int32_t partition, std::span<const store::ChangelogOp> ops) {
  PendingAppend pending;
  pending.remaining.store(ops.size());
  pending_records_.fetch_add(ops.size());
  struct Done {
    std::atomic<uint64_t>& counter;
    size_t n;
    ~Done() { counter.fetch_sub(n); }
  } done{pending_records_, ops.size()};
  size_t queued = 0;
  std::string value;
  for (const store::ChangelogOp& op : ops) {
    if (op.value) {
      value.assign(1, kValueTag);
      value += *op.value;
    }
    for (;;) {
      const rd_kafka_resp_err_t err = rd_kafka_producev(
          producer_, RD_KAFKA_V_TOPIC(options_.topic.c_str()), RD_KAFKA_V_PARTITION(partition),
          RD_KAFKA_V_KEY(op.key.data(), op.key.size()),
          RD_KAFKA_V_VALUE((op.value ? value.data() : nullptr), (op.value ? value.size() : size_t{0})),
          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_OPAQUE(&pending), RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) break;
      if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        // What was queued still reports to `pending`: wait for it before it goes.
        pending.remaining.fetch_sub(ops.size() - queued);
        AwaitDeliveries(pending);
        return KafkaError(err, "changelog " + options_.topic);
      }
      rd_kafka_poll(producer_, 10);  // a full queue drains as reports are served
    }
    ++queued;
    appended_bytes_.fetch_add(op.key.size() + (op.value ? op.value->size() : 0), std::memory_order_relaxed);
  }
  appended_records_.fetch_add(ops.size(), std::memory_order_relaxed);
  AwaitDeliveries(pending);
  if (const int err = pending.error.load()) {
    return KafkaError(static_cast<rd_kafka_resp_err_t>(err), "changelog " + options_.topic + " delivery");
  }
  return pending.last_offset.load() + 1;
}

Result<std::pair<int64_t, int64_t>> KafkaChangelog::Watermarks(int32_t partition) {
  int64_t low = 0, high = 0;
  LEADSCORE_RETURN_IF_ERROR(KafkaError(rd_kafka_query_watermark_offsets(consumer_, options_.topic.c_str(), partition,
                                                                        &low, &high, options_.timeout_ms),
                                       "changelog watermarks"));
  return std::pair<int64_t, int64_t>(low, high);
}

Status KafkaChangelog::Read(int32_t partition, int64_t from, int64_t to, const Visit& fn) {
  if (from >= to) return Status::Ok();
  PartitionListPtr list(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(list.get(), options_.topic.c_str(), partition)->offset = from;
  LEADSCORE_RETURN_IF_ERROR(KafkaError(rd_kafka_assign(consumer_, list.get()), "changelog assign"));
  Status result = Status::Ok();
  auto last_progress = std::chrono::steady_clock::now();
  for (bool done = false; !done && result.ok();) {
    MessagePtr m(rd_kafka_consumer_poll(consumer_, 100));
    if (!m) {
      if (std::chrono::steady_clock::now() - last_progress > std::chrono::milliseconds(options_.timeout_ms)) {
        result = Status::Unavailable("reading changelog " + options_.topic + " made no progress");
      }
      continue;
    }
    if (m->partition != partition) continue;
    if (m->err) {
      // The end: the partition's end at least `to` (offsets a compaction removed are
      // skipped over, so `to - 1` itself may never come).
      if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) done = m->offset >= to;
      else result = KafkaError(m->err, "changelog read");
      continue;
    }
    last_progress = std::chrono::steady_clock::now();
    if (m->offset < from) continue;  // fetched for an earlier assignment
    if (m->offset >= to) break;
    auto value = ChangelogValue(m->payload, m->len);
    if (!value.ok()) {
      result = Status::Corruption("changelog " + options_.topic + " offset " + std::to_string(m->offset) + ": " +
                                  value.status().message());
      continue;
    }
    result = fn(m->offset, std::string_view(static_cast<const char*>(m->key), m->key_len), *value);
    done = m->offset + 1 >= to;
  }
  rd_kafka_assign(consumer_, nullptr);
  return result;
}

}  // namespace leadscore::stream
