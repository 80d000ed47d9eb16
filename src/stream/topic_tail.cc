#include "stream/topic_tail.h"

#include <librdkafka/rdkafka.h>

#include "stream/kafka_handle.h"

namespace leadscore::stream {

Result<std::unique_ptr<TopicTail>> TopicTail::Open(const std::string& brokers, const std::string& topic) {
  auto conf = MakeConf({{"bootstrap.servers", brokers}, {"group.id", "leadscore-tail"},
                        {"enable.auto.commit", "false"}, {"fetch.wait.max.ms", "10"}, {"log_level", "3"}});
  if (!conf.ok()) return conf.status();
  char err[512];
  std::unique_ptr<TopicTail> t(new TopicTail());
  t->rk_ = rd_kafka_new(RD_KAFKA_CONSUMER, conf->release(), err, sizeof err);
  if (!t->rk_) return Status::Unavailable(std::string("tail: ") + err);
  const rd_kafka_metadata_t* md = nullptr;
  LEADSCORE_RETURN_IF_ERROR(KafkaError(rd_kafka_metadata(t->rk_, 1, nullptr, &md, 10000), "tail metadata"));
  PartitionListPtr parts(rd_kafka_topic_partition_list_new(8));
  for (int i = 0; i < md->topic_cnt; ++i) {
    if (topic != md->topics[i].topic) continue;
    for (int p = 0; p < md->topics[i].partition_cnt; ++p) {
      rd_kafka_topic_partition_list_add(parts.get(), topic.c_str(), md->topics[i].partitions[p].id)->offset =
          RD_KAFKA_OFFSET_BEGINNING;
    }
  }
  rd_kafka_metadata_destroy(md);
  if (parts->cnt == 0) return Status::NotFound("topic " + topic + " does not exist");
  LEADSCORE_RETURN_IF_ERROR(KafkaError(rd_kafka_assign(t->rk_, parts.get()), "tail assign"));
  return t;
}

TopicTail::~TopicTail() {
  if (rk_) {
    rd_kafka_consumer_close(rk_);
    rd_kafka_destroy(rk_);
  }
}

std::vector<TailRecord> TopicTail::Poll(int timeout_ms) {
  std::vector<TailRecord> out;
  for (int wait = timeout_ms;; wait = 0) {
    MessagePtr m(rd_kafka_consumer_poll(rk_, wait));
    if (!m) break;
    if (m->err) continue;
    TailRecord r;
    if (m->key) r.key.assign(static_cast<const char*>(m->key), m->key_len);
    if (m->payload) r.value.assign(static_cast<const char*>(m->payload), m->len);
    r.partition = m->partition;
    r.offset = m->offset;
    rd_kafka_headers_t* hdrs = nullptr;
    if (rd_kafka_message_headers(m.get(), &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      const char* name;
      const void* val;
      size_t size;
      for (size_t i = 0; rd_kafka_header_get_all(hdrs, i, &name, &val, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i) {
        r.headers[name] = std::string(static_cast<const char*>(val), size);
      }
    }
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace leadscore::stream
