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

std::vector<std::string> TopicTail::Poll(int timeout_ms) {
  std::vector<std::string> out;
  for (int wait = timeout_ms;; wait = 0) {
    MessagePtr m(rd_kafka_consumer_poll(rk_, wait));
    if (!m) break;
    if (m->err) continue;
    out.emplace_back(static_cast<const char*>(m->payload), m->len);
  }
  return out;
}

}  // namespace leadscore::stream
