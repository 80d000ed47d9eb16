// The Kafka source over the embedded broker: a poll's limit (the time budget per batch
// sets it) bounds what one poll takes, and what it leaves is taken by the next polls,
// each record once and in order. Every consumer of ours prefetches past librdkafka's
// default record bound unless the config says otherwise (kafka_handle.h).
#include "stream/source.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "stream/embedded_broker.h"
#include "stream/kafka_handle.h"
#include "stream/kafka_test_util.h"

namespace leadscore::stream {
namespace {

TEST(KafkaSourceTest, APollTakesNoMoreThanItsLimitAndTheRestFollowsInOrder) {
  auto broker = EmbeddedBroker::Start({.brokers = 1, .partitions = 1, .topics = {"in"}});
  ASSERT_TRUE(broker.ok()) << broker.status().message();
  testing::TestProducer producer((*broker)->bootstrap());
  const int kRecords = 50;
  for (int i = 0; i < kRecords; ++i) producer.Send("in", "k", "v" + std::to_string(i));
  producer.Flush();

  auto source = KafkaSource::Open({.brokers = (*broker)->bootstrap(), .group_id = "limit-test", .topics = {"in"},
                                   .kafka = {{"session.timeout.ms", "6000"}}, .max_batch = 1000, .max_wait_ms = 100});
  ASSERT_TRUE(source.ok()) << source.status().message();
  std::vector<int64_t> offsets;
  size_t largest_poll = 0;
  // Bounded: each poll waits at most 100 ms for its first record (the group join first).
  for (int polls = 0; polls < 600 && offsets.size() < kRecords; ++polls) {
    std::vector<SourceRecord> got;
    ASSERT_TRUE((*source)->Poll(&got, 7).ok());
    largest_poll = std::max(largest_poll, got.size());
    for (const auto& r : got) offsets.push_back(r.offset);
  }
  (*source)->Close();
  ASSERT_EQ(offsets.size(), static_cast<size_t>(kRecords));
  EXPECT_LE(largest_poll, 7u) << "the limit bounds a poll";
  EXPECT_GT(largest_poll, 1u) << "a poll takes what is there up to the limit, not one record";
  for (int i = 0; i < kRecords; ++i) EXPECT_EQ(offsets[i], i) << "each record once, in order";
}

// librdkafka 2.0 stops fetching for up to a second once its queue holds
// queued.min.messages records (100 000 by default): a backlog then waited on the fetcher.
TEST(KafkaSourceTest, ConsumersPrefetchPastLibrdkafkasRecordBoundUnlessTheConfigSetsIt) {
  auto broker = EmbeddedBroker::Start({.brokers = 1, .partitions = 1, .topics = {"in"}});
  ASSERT_TRUE(broker.ok()) << broker.status().message();
  auto source = KafkaSource::Open({.brokers = (*broker)->bootstrap(), .group_id = "defaults-test", .topics = {"in"}});
  ASSERT_TRUE(source.ok()) << source.status().message();
  EXPECT_EQ((*source)->Setting("queued.min.messages"), "1000000");
  EXPECT_EQ((*source)->Setting("queued.max.messages.kbytes"), "65536") << "librdkafka's byte bound, kept";
  (*source)->Close();

  auto configured = KafkaSource::Open({.brokers = (*broker)->bootstrap(), .group_id = "defaults-test-2",
                                       .topics = {"in"}, .kafka = {{"queued.min.messages", "5000"}}});
  ASSERT_TRUE(configured.ok()) << configured.status().message();
  EXPECT_EQ((*configured)->Setting("queued.min.messages"), "5000") << "the config's value wins";
  (*configured)->Close();

  // A restore's, a standby's and a topic reader's consumer: the same defaults.
  for (const auto& [kafka, want] : std::vector<std::pair<std::map<std::string, std::string>, std::string>>{
           {{}, "1000000"}, {{{"queued.min.messages", "7000"}}, "7000"}}) {
    auto consumer = HandAssignedConsumer((*broker)->bootstrap(), "defaults-test-3", kafka, {});
    ASSERT_TRUE(consumer.ok()) << consumer.status().message();
    char value[64];
    size_t size = sizeof value;
    ASSERT_EQ(rd_kafka_conf_get(rd_kafka_conf(consumer->get()), "queued.min.messages", value, &size), RD_KAFKA_CONF_OK);
    EXPECT_EQ(std::string(value), want);
  }
}

}  // namespace
}  // namespace leadscore::stream
