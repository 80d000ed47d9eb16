// A plain librdkafka producer and a reader for integration tests against the embedded
// broker over TCP. Reads poll with a deadline; nothing sleeps.
#pragma once

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "stream/kafka_handle.h"

namespace leadscore::testing {

struct Record {
  std::string key, value;
  int32_t partition = 0;
  int64_t offset = 0;
  std::map<std::string, std::string> headers;
};

class TestProducer {
 public:
  explicit TestProducer(const std::string& bootstrap) {
    auto conf = stream::MakeConf({{"bootstrap.servers", bootstrap}, {"linger.ms", "5"}});
    char err[512];
    rk_.reset(rd_kafka_new(RD_KAFKA_PRODUCER, conf->release(), err, sizeof err));
    EXPECT_TRUE(rk_) << err;
  }
  void Send(const std::string& topic, const std::string& key, const std::string& value) {
    rd_kafka_resp_err_t e = rd_kafka_producev(rk_.get(), RD_KAFKA_V_TOPIC(topic.c_str()),
                                              RD_KAFKA_V_KEY(key.data(), key.size()),
                                              RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    EXPECT_EQ(e, RD_KAFKA_RESP_ERR_NO_ERROR) << rd_kafka_err2str(e);
  }
  void Flush() { EXPECT_EQ(rd_kafka_flush(rk_.get(), 30000), RD_KAFKA_RESP_ERR_NO_ERROR); }

 private:
  stream::KafkaPtr rk_;
};

// Reads every partition of `topic` from the beginning until `want` records arrived or
// the deadline passed.
inline std::vector<Record> ReadTopic(const std::string& bootstrap, const std::string& topic, size_t want,
                                     std::chrono::seconds deadline = std::chrono::seconds(60)) {
  auto conf = stream::MakeConf({{"bootstrap.servers", bootstrap}, {"group.id", "test-reader-" + topic},
                                {"enable.auto.commit", "false"}, {"auto.offset.reset", "earliest"}});
  char err[512];
  stream::KafkaPtr rk(rd_kafka_new(RD_KAFKA_CONSUMER, conf->release(), err, sizeof err));
  EXPECT_TRUE(rk) << err;
  const rd_kafka_metadata_t* md = nullptr;
  std::vector<Record> out;
  if (rd_kafka_metadata(rk.get(), 0, nullptr, &md, 10000) != RD_KAFKA_RESP_ERR_NO_ERROR) return out;
  stream::PartitionListPtr parts(rd_kafka_topic_partition_list_new(8));
  for (int t = 0; t < md->topic_cnt; ++t) {
    if (topic != md->topics[t].topic) continue;
    for (int p = 0; p < md->topics[t].partition_cnt; ++p) {
      rd_kafka_topic_partition_list_add(parts.get(), topic.c_str(), md->topics[t].partitions[p].id)->offset =
          RD_KAFKA_OFFSET_BEGINNING;
    }
  }
  rd_kafka_metadata_destroy(md);
  rd_kafka_assign(rk.get(), parts.get());
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (out.size() < want && std::chrono::steady_clock::now() < until) {
    stream::MessagePtr m(rd_kafka_consumer_poll(rk.get(), 200));
    if (!m || m->err) continue;
    Record r;
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
  rd_kafka_consumer_close(rk.get());
  return out;
}

}  // namespace leadscore::testing
