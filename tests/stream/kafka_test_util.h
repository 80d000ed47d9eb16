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
#include "stream/topic_tail.h"

namespace leadscore::testing {

using Record = stream::TailRecord;

class TestProducer {
 public:
  explicit TestProducer(const std::string& bootstrap, std::map<std::string, std::string> extra = {}) {
    extra["bootstrap.servers"] = bootstrap;
    extra.emplace("linger.ms", "5");
    auto conf = stream::MakeConf(extra);
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
  // To a partition the test picks (the partitioner would place keys by their hash).
  void SendTo(const std::string& topic, int32_t partition, const std::string& key, const std::string& value) {
    rd_kafka_resp_err_t e = rd_kafka_producev(
        rk_.get(), RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(partition), RD_KAFKA_V_KEY(key.data(), key.size()),
        RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_END);
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
  std::vector<Record> out;
  auto tail = stream::TopicTail::Open(bootstrap, topic);
  EXPECT_TRUE(tail.ok()) << tail.status().message();
  if (!tail.ok()) return out;
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (out.size() < want && std::chrono::steady_clock::now() < until) {
    for (auto& r : (*tail)->Poll(200)) out.push_back(std::move(r));
  }
  return out;
}

}  // namespace leadscore::testing
