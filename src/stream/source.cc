#include "stream/source.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <set>

#include <spdlog/spdlog.h>

#include "stream/kafka_handle.h"

namespace leadscore::stream {
namespace {

void RebalanceCallback(rd_kafka_t*, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts, void* opaque) {
  static_cast<KafkaSource*>(opaque)->OnRebalance(err, parts);
}

int StatisticsCallback(rd_kafka_t*, char* json, size_t len, void* opaque) {
  static_cast<KafkaSource*>(opaque)->OnStatistics({json, len});
  return 0;  // librdkafka frees the JSON
}

}  // namespace

Result<std::unique_ptr<KafkaSource>> KafkaSource::Open(const SourceOptions& options) {
  std::map<std::string, std::string> props = {
      {"bootstrap.servers", options.brokers},
      {"group.id", options.group_id},
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"auto.offset.reset", "earliest"},
      {"partition.assignment.strategy", "range"},  // keeps a partition number together across topics
      // A killed member's partitions move after 10 s (librdkafka's default is 45 s);
      // static members (group.instance.id) usually want longer: they set their own.
      {"session.timeout.ms", "10000"},
      {"heartbeat.interval.ms", "3000"},
      {"log_level", "4"},
      {"statistics.interval.ms", "5000"},  // for the metrics; 0 turns them off
  };
  for (const auto& [k, v] : options.kafka) props[k] = v;
  AddConsumerDefaults(props);
  auto conf = MakeConf(props);
  if (!conf.ok()) return conf.status();
  std::unique_ptr<KafkaSource> source(new KafkaSource());
  source->options_ = options;
  rd_kafka_conf_set_rebalance_cb(conf->get(), RebalanceCallback);
  rd_kafka_conf_set_stats_cb(conf->get(), StatisticsCallback);
  rd_kafka_conf_set_opaque(conf->get(), source.get());
  char err[512];
  source->rk_ = rd_kafka_new(RD_KAFKA_CONSUMER, conf->release(), err, sizeof err);
  if (!source->rk_) return Status::InvalidArgument(std::string("kafka consumer: ") + err);
  rd_kafka_poll_set_consumer(source->rk_);
  source->queue_ = rd_kafka_queue_get_consumer(source->rk_);
  // The input topics' partitions and leaders, learned before the group assigns them: a
  // partition assigned before its leader was known waited out librdkafka's offset query
  // retry (500 ms) before its first fetch ("no current leader for partition" in its
  // topic log): one to seven of the eight partitions, in 3 of 12 starts on the
  // embedded broker, and 0 of 16 with this. (With one request for every topic's
  // metadata instead, 5 of 8 starts still waited.) Asking names the topics, as the
  // subscription's own metadata requests do. Best effort: a broker that does not
  // answer within 2 s leaves them to be learned when they are assigned, as before.
  for (const auto& t : options.topics) {
    if (Status known = LearnTopic(source->rk_, t, 2000); !known.ok()) {
      spdlog::warn("input {}: {} (learned when assigned)", t, known.message());
      break;
    }
  }
  PartitionListPtr topics(rd_kafka_topic_partition_list_new(static_cast<int>(options.topics.size())));
  for (const auto& t : options.topics) rd_kafka_topic_partition_list_add(topics.get(), t.c_str(), RD_KAFKA_PARTITION_UA);
  LEADSCORE_RETURN_IF_ERROR(KafkaError(rd_kafka_subscribe(source->rk_, topics.get()), "subscribe"));
  return source;
}

std::string KafkaSource::Setting(const std::string& name) const { return ConfValue(rk_, name); }

KafkaSource::~KafkaSource() {
  Close();
  if (queue_) rd_kafka_queue_destroy(static_cast<rd_kafka_queue_t*>(queue_));
  if (rk_) rd_kafka_destroy(rk_);
}

void KafkaSource::Close() {
  if (closed_ || !rk_) return;
  closed_ = true;
  rd_kafka_consumer_close(rk_);
}

void KafkaSource::OnRebalance(int err, void* p) {
  auto* parts = static_cast<rd_kafka_topic_partition_list_t*>(p);
  std::set<int32_t> numbers;  // inputs are co-partitioned: one call per partition number
  for (int i = 0; i < parts->cnt; ++i) numbers.insert(parts->elems[i].partition);
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    for (int32_t n : numbers) {
      if (!options_.on_assign) continue;
      // Resume where the partition's state says, not where the group says.
      const auto stored = options_.on_assign(n);
      if (!stored) continue;
      for (int i = 0; i < parts->cnt; ++i) {
        if (parts->elems[i].partition != n) continue;
        auto it = stored->find(parts->elems[i].topic);
        parts->elems[i].offset = it != stored->end() ? it->second : RD_KAFKA_OFFSET_BEGINNING;
      }
    }
    rd_kafka_assign(rk_, parts);
  } else {
    for (int32_t n : numbers) {
      if (options_.on_revoke) options_.on_revoke(n);
    }
    rd_kafka_assign(rk_, nullptr);
  }
}

Status KafkaSource::Poll(std::vector<SourceRecord>* out, size_t limit, std::optional<int> wait_ms) {
  batch_.resize(limit ? std::min(limit, options_.max_batch) : options_.max_batch);
  std::vector<rd_kafka_message_t*>& msgs = batch_;
  // Wait for the first record only: a batch call with a timeout would wait for the whole
  // batch to fill, which is latency at low load. The rest is what is there already.
  auto* queue = static_cast<rd_kafka_queue_t*>(queue_);
  ssize_t n = 0;
  if (rd_kafka_message_t* first = rd_kafka_consume_queue(queue, wait_ms.value_or(options_.max_wait_ms))) {
    msgs[0] = first;
    n = 1;
    const ssize_t more = rd_kafka_consume_batch_queue(queue, 0, msgs.data() + 1, msgs.size() - 1);
    if (more > 0) n += more;
  }
  Status status;
  for (ssize_t i = 0; i < n; ++i) {
    MessagePtr m(msgs[i]);
    if (m->err) {
      if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) continue;
      errors_.fetch_add(1, std::memory_order_relaxed);
      if (status.ok()) status = KafkaError(m->err, "consume");
      continue;
    }
    SourceRecord r;
    r.topic = rd_kafka_topic_name(m->rkt);
    r.partition = m->partition;
    r.offset = m->offset;
    if (m->key) {
      r.has_key = true;
      r.key.assign(static_cast<const char*>(m->key), m->key_len);
    }
    if (m->payload) r.value.assign(static_cast<const char*>(m->payload), m->len);
    out->push_back(std::move(r));
  }
  return status;
}

std::pair<int64_t, int64_t> KafkaSource::CachedWatermarks(const std::string& topic, int32_t partition) const {
  int64_t low = -1, high = -1;
  if (rd_kafka_get_watermark_offsets(rk_, topic.c_str(), partition, &low, &high) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return {-1, -1};
  }
  return {low, high};
}

Result<std::pair<int64_t, int64_t>> KafkaSource::QueryWatermarks(const std::string& topic, int32_t partition,
                                                                 int timeout_ms) const {
  int64_t low = -1, high = -1;
  LEADSCORE_RETURN_IF_ERROR(KafkaError(
      rd_kafka_query_watermark_offsets(rk_, topic.c_str(), partition, &low, &high, timeout_ms), "watermarks"));
  return std::pair<int64_t, int64_t>(low, high);
}

Status KafkaSource::Commit(const std::map<std::pair<std::string, int32_t>, int64_t>& next_offsets) {
  if (next_offsets.empty()) return Status::Ok();
  PartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(next_offsets.size())));
  for (const auto& [tp, offset] : next_offsets) {
    rd_kafka_topic_partition_list_add(list.get(), tp.first.c_str(), tp.second)->offset = offset;
  }
  return KafkaError(rd_kafka_commit(rk_, list.get(), 1), "commit offsets");  // async: for tools only
}

}  // namespace leadscore::stream
