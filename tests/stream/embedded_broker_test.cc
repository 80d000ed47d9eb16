// The embedded broker speaks the Kafka protocol over TCP: a separate librdkafka client
// lists its topics and round-trips records through it.
#include "stream/embedded_broker.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "stream/kafka_test_util.h"

namespace leadscore::stream {
namespace {

TEST(EmbeddedBrokerTest, ListensOnLoopbackAndServesMetadata) {
  auto broker = EmbeddedBroker::Start({.brokers = 1, .partitions = 3, .topics = {"in", "out"}});
  ASSERT_TRUE(broker.ok()) << broker.status().message();
  EXPECT_THAT((*broker)->bootstrap(), ::testing::StartsWith("127.0.0.1:"));

  auto conf = MakeConf({{"bootstrap.servers", (*broker)->bootstrap()}});
  char err[512];
  KafkaPtr client(rd_kafka_new(RD_KAFKA_PRODUCER, conf->release(), err, sizeof err));
  const rd_kafka_metadata_t* md = nullptr;
  ASSERT_EQ(rd_kafka_metadata(client.get(), 1, nullptr, &md, 10000), RD_KAFKA_RESP_ERR_NO_ERROR);
  std::map<std::string, int> partitions;
  for (int i = 0; i < md->topic_cnt; ++i) partitions[md->topics[i].topic] = md->topics[i].partition_cnt;
  rd_kafka_metadata_destroy(md);
  EXPECT_EQ(partitions["in"], 3);
  EXPECT_EQ(partitions["out"], 3);
}

TEST(EmbeddedBrokerTest, RoundTripsRecordsOverTcp) {
  auto broker = EmbeddedBroker::Start({.brokers = 1, .partitions = 2, .topics = {"t"}});
  ASSERT_TRUE(broker.ok());
  testing::TestProducer producer((*broker)->bootstrap());
  for (int i = 0; i < 20; ++i) producer.Send("t", "k" + std::to_string(i % 4), "v" + std::to_string(i));
  producer.Flush();
  auto records = testing::ReadTopic((*broker)->bootstrap(), "t", 20);
  ASSERT_EQ(records.size(), 20u);
  std::map<std::string, std::set<int32_t>> partitions_of_key;
  for (const auto& r : records) partitions_of_key[r.key].insert(r.partition);
  for (const auto& [key, parts] : partitions_of_key) EXPECT_EQ(parts.size(), 1u) << "one key, one partition";
}

}  // namespace
}  // namespace leadscore::stream
