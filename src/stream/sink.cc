#include "stream/sink.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <utility>

#include "stream/kafka_handle.h"

namespace leadscore::stream {
namespace {

void DeliveryCallback(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  static_cast<KafkaSink*>(opaque)->OnDelivery(m->err, rd_kafka_topic_name(m->rkt), m->partition, m->offset,
                                              reinterpret_cast<uint64_t>(m->_private));
}

int StatisticsCallback(rd_kafka_t*, char* json, size_t len, void* opaque) {
  static_cast<KafkaSink*>(opaque)->OnStatistics({json, len});
  return 0;  // librdkafka frees the JSON
}

}  // namespace

Result<std::unique_ptr<KafkaSink>> KafkaSink::Open(const SinkOptions& options) {
  std::map<std::string, std::string> props = {
      {"bootstrap.servers", options.brokers},
      {"enable.idempotence", "true"},  // no duplicates or reordering from retries
      // Retry for as long as it takes: a broker away for a while delays the outbox, it
      // does not fail it (a retry after a timeout could duplicate a record).
      {"message.timeout.ms", "0"},
      {"linger.ms", "1"},  // routing events are few; latency matters more than batching them
      {"compression.type", "lz4"},
      {"log_level", "4"},
      {"statistics.interval.ms", "5000"},  // for the metrics; 0 turns them off
  };
  for (const auto& [k, v] : options.kafka) props[k] = v;
  auto conf = MakeConf(props);
  if (!conf.ok()) return conf.status();
  std::unique_ptr<KafkaSink> sink(new KafkaSink());
  rd_kafka_conf_set_dr_msg_cb(conf->get(), DeliveryCallback);
  rd_kafka_conf_set_stats_cb(conf->get(), StatisticsCallback);
  rd_kafka_conf_set_opaque(conf->get(), sink.get());
  char err[512];
  sink->rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf->release(), err, sizeof err);
  if (!sink->rk_) return Status::InvalidArgument(std::string("kafka producer: ") + err);
  return sink;
}

KafkaSink::~KafkaSink() {
  if (rk_) {
    rd_kafka_flush(rk_, 10000);
    rd_kafka_destroy(rk_);
  }
}

void KafkaSink::OnDelivery(int err, const char* topic, int32_t partition, int64_t offset, uint64_t tag) {
  outstanding_.fetch_sub(1, std::memory_order_relaxed);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    ++failed_;
    delivery_errors_.fetch_add(1, std::memory_order_relaxed);
    last_error_ = rd_kafka_err2str(static_cast<rd_kafka_resp_err_t>(err));
    return;
  }
  if (tag != 0) delivered_tags_.push_back(tag);
  if (offset < 0) return;
  int64_t& next = delivered_[{topic, partition}];
  next = std::max(next, offset + 1);
}

std::map<std::pair<std::string, int32_t>, int64_t> KafkaSink::TakeDelivered() { return std::exchange(delivered_, {}); }

std::vector<uint64_t> KafkaSink::TakeDeliveredTags() { return std::exchange(delivered_tags_, {}); }

// Our own count, not rd_kafka_outq_len: that also counts callbacks waiting to be
// served, so a statistics event (every 5 s) made deliveries look outstanding for a
// moment, and a caught-up service could read as not caught up.
bool KafkaSink::InFlight() const { return outstanding_.load(std::memory_order_relaxed) > 0; }

Status KafkaSink::LearnTopic(const std::string& topic, int timeout_ms) {
  return stream::LearnTopic(rk_, topic, timeout_ms);
}

Result<std::map<int32_t, int64_t>> KafkaSink::HighWatermarks(const std::string& topic, int timeout_ms) const {
  auto partitions = TopicPartitions(rk_, topic, timeout_ms);
  if (!partitions.ok()) return partitions.status();
  if (partitions->empty()) return Status::Unavailable("topic " + topic + " has no partitions (yet)");
  std::map<int32_t, int64_t> out;
  for (int32_t p : *partitions) {
    int64_t low = 0, high = 0;
    LEADSCORE_RETURN_IF_ERROR(KafkaError(
        rd_kafka_query_watermark_offsets(rk_, topic.c_str(), p, &low, &high, timeout_ms), "watermarks of " + topic));
    out[p] = high;
  }
  return out;
}

Status KafkaSink::Produce(const std::string& topic, const std::string& key, const std::string& value,
                          const std::vector<std::pair<std::string, std::string>>& headers, uint64_t tag,
                          int32_t partition) {
  rd_kafka_headers_t* hdrs = rd_kafka_headers_new(headers.size());
  for (const auto& [k, v] : headers) rd_kafka_header_add(hdrs, k.data(), k.size(), v.data(), v.size());
  outstanding_.fetch_add(1, std::memory_order_relaxed);  // before: its report may be served on another thread
  for (;;) {
    rd_kafka_resp_err_t e = rd_kafka_producev(
        rk_, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(partition < 0 ? RD_KAFKA_PARTITION_UA : partition),
        RD_KAFKA_V_KEY(key.data(), key.size()),
        RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(tag)), RD_KAFKA_V_END);
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR) return Status::Ok();  // the headers now belong to the message
    if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      outstanding_.fetch_sub(1, std::memory_order_relaxed);
      rd_kafka_headers_destroy(hdrs);
      return KafkaError(e, "produce to " + topic);
    }
    rd_kafka_poll(rk_, 100);  // back-pressure: let deliveries drain, then retry
  }
}

void KafkaSink::Poll(int timeout_ms) const { rd_kafka_poll(rk_, timeout_ms); }

Status KafkaSink::Flush(int timeout_ms) {
  rd_kafka_resp_err_t e = rd_kafka_flush(rk_, timeout_ms);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) return KafkaError(e, "flush");
  if (failed_ > 0) {
    Status s = Status::Unavailable(std::to_string(failed_) + " deliveries failed: " + last_error_);
    failed_ = 0;
    return s;
  }
  return Status::Ok();
}

}  // namespace leadscore::stream
