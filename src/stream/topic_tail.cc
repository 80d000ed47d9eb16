#include "stream/topic_tail.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <chrono>

#include "stream/kafka_handle.h"

namespace leadscore::stream {
namespace {

TailRecord ToRecord(const rd_kafka_message_t* m) {
  TailRecord r;
  if (m->key) r.key.assign(static_cast<const char*>(m->key), m->key_len);
  if (m->payload) r.value.assign(static_cast<const char*>(m->payload), m->len);
  r.partition = m->partition;
  r.offset = m->offset;
  r.timestamp_ms = rd_kafka_message_timestamp(m, nullptr);
  rd_kafka_headers_t* hdrs = nullptr;
  if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    const char* name;
    const void* val;
    size_t size;
    for (size_t i = 0; rd_kafka_header_get_all(hdrs, i, &name, &val, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i) {
      r.headers[name] = std::string(static_cast<const char*>(val), size);
    }
  }
  return r;
}

// A consumer handle that only asks the cluster about a topic (never joins a group,
// never creates the topic by asking); `what` names it in errors.
Result<KafkaPtr> MetadataReader(const std::string& brokers, const std::map<std::string, std::string>& kafka,
                                const char* what) {
  std::map<std::string, std::string> props = kafka;
  props["bootstrap.servers"] = brokers;
  props["allow.auto.create.topics"] = "false";  // asking must not create it
  auto conf = MakeConf(props);
  if (!conf.ok()) return conf.status();
  char err[512];
  KafkaPtr rk(rd_kafka_new(RD_KAFKA_CONSUMER, conf->release(), err, sizeof err));
  if (!rk) return Status::Unavailable(std::string(what) + ": " + err);
  return rk;
}

}  // namespace

Result<std::unique_ptr<TopicTail>> TopicTail::Open(const std::string& brokers, const std::string& topic,
                                                   const std::map<std::string, std::string>& kafka) {
  std::map<std::string, std::string> settings = {{"bootstrap.servers", brokers}, {"group.id", "leadscore-tail"},
                                                 {"enable.auto.commit", "false"}, {"fetch.wait.max.ms", "10"},
                                                 {"log_level", "3"}};
  for (const auto& [k, v] : kafka) settings[k] = v;
  AddConsumerDefaults(settings);
  auto conf = MakeConf(settings);
  if (!conf.ok()) return conf.status();
  char err[512];
  std::unique_ptr<TopicTail> t(new TopicTail());
  t->rk_ = rd_kafka_new(RD_KAFKA_CONSUMER, conf->release(), err, sizeof err);
  if (!t->rk_) return Status::Unavailable(std::string("tail: ") + err);
  auto partitions = TopicPartitions(t->rk_, topic, 10000);
  if (!partitions.ok()) return partitions.status();
  if (partitions->empty()) return Status::NotFound("topic " + topic + " does not exist");
  PartitionListPtr parts(rd_kafka_topic_partition_list_new(static_cast<int>(partitions->size())));
  for (int32_t p : *partitions) {
    rd_kafka_topic_partition_list_add(parts.get(), topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  }
  LEADSCORE_RETURN_IF_ERROR(KafkaError(rd_kafka_assign(t->rk_, parts.get()), "tail assign"));
  return t;
}

TopicTail::~TopicTail() {
  if (rk_) {
    rd_kafka_consumer_close(rk_);
    rd_kafka_destroy(rk_);
  }
}

std::string TopicTail::Setting(const std::string& name) const { return ConfValue(rk_, name); }

std::vector<TailRecord> TopicTail::Poll(int timeout_ms) {
  std::vector<TailRecord> out;
  for (int wait = timeout_ms;; wait = 0) {
    MessagePtr m(rd_kafka_consumer_poll(rk_, wait));
    if (!m) break;
    if (m->err) continue;
    out.push_back(ToRecord(m.get()));
  }
  return out;
}

Result<bool> TopicExists(const std::string& brokers, const std::map<std::string, std::string>& kafka,
                         const std::string& topic, int timeout_ms) {
  auto rk = MetadataReader(brokers, kafka, "reader");
  if (!rk.ok()) return rk.status();
  auto partitions = TopicPartitions(rk->get(), topic, timeout_ms);
  if (!partitions.ok()) return partitions.status();
  return !partitions->empty();
}

Result<std::map<int32_t, Watermark>> Watermarks(const std::string& brokers,
                                                const std::map<std::string, std::string>& kafka,
                                                const std::string& topic, int timeout_ms) {
  auto handle = MetadataReader(brokers, kafka, "watermarks");
  if (!handle.ok()) return handle.status();
  KafkaPtr rk = std::move(*handle);
  auto partitions = TopicPartitions(rk.get(), topic, timeout_ms);
  if (!partitions.ok()) return partitions.status();
  std::map<int32_t, Watermark> out;
  for (int32_t p : *partitions) {
    Watermark w;
    LEADSCORE_RETURN_IF_ERROR(KafkaError(
        rd_kafka_query_watermark_offsets(rk.get(), topic.c_str(), p, &w.low, &w.high, timeout_ms), "watermarks"));
    out[p] = w;
  }
  return out;
}

Result<std::vector<TailRecord>> ReadToEnd(const std::string& brokers, const std::map<std::string, std::string>& kafka,
                                          const std::string& topic, const std::map<int32_t, int64_t>& from,
                                          int timeout_ms) {
  auto consumer = HandAssignedConsumer(brokers, "leadscore-reconcile", kafka,
                                       {{"fetch.wait.max.ms", "10"}, {"enable.partition.eof", "true"}});
  if (!consumer.ok()) return consumer.status();
  KafkaPtr rk = std::move(*consumer);
  auto partitions = TopicPartitions(rk.get(), topic, timeout_ms);
  if (!partitions.ok()) return partitions.status();
  PartitionListPtr assign(rd_kafka_topic_partition_list_new(static_cast<int>(partitions->size()) + 1));
  std::map<int32_t, int64_t> end;
  for (int32_t p : *partitions) {
    int64_t low = 0, high = 0;
    LEADSCORE_RETURN_IF_ERROR(KafkaError(
        rd_kafka_query_watermark_offsets(rk.get(), topic.c_str(), p, &low, &high, timeout_ms), "watermarks"));
    auto it = from.find(p);
    const int64_t start = std::max(low, it == from.end() ? low : it->second);
    if (start >= high) continue;
    end[p] = high;
    rd_kafka_topic_partition_list_add(assign.get(), topic.c_str(), p)->offset = start;
  }
  std::vector<TailRecord> out;
  if (end.empty()) return out;
  LEADSCORE_RETURN_IF_ERROR(KafkaError(rd_kafka_assign(rk.get(), assign.get()), "assign"));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!end.empty()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return Status::Unavailable("reading " + topic + " to its end timed out");
    }
    MessagePtr m(rd_kafka_consumer_poll(rk.get(), 100));
    if (!m) continue;
    if (m->err) {
      if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) end.erase(m->partition);
      continue;
    }
    auto it = end.find(m->partition);
    if (it == end.end()) continue;
    if (m->offset + 1 >= it->second) end.erase(it);
    out.push_back(ToRecord(m.get()));
  }
  rd_kafka_consumer_close(rk.get());
  return out;
}

}  // namespace leadscore::stream
