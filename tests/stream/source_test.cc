// The Kafka source over the embedded broker: a poll's limit (the time budget per batch
// sets it) bounds what one poll takes, and what it leaves is taken by the next polls,
// each record once and in order. Every consumer of ours prefetches past librdkafka's
// default record bound unless the config says otherwise (kafka_handle.h).
#include "stream/source.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "stream/embedded_broker.h"
#include "stream/kafka_handle.h"
#include "stream/kafka_test_util.h"
#include "stream/topic_tail.h"

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

  // A restore's, a standby's and a reconcile reader's consumer: the same defaults; the
  // config's properties and the caller's overrides win.
  using Properties = std::map<std::string, std::string>;
  struct Case {
    Properties kafka, overrides;
    std::string want;
  };
  for (const Case& c : {Case{{}, {}, "1000000"}, Case{{{"queued.min.messages", "7000"}}, {}, "7000"},
                        Case{{{"queued.min.messages", "7000"}}, {{"queued.min.messages", "8000"}}, "8000"}}) {
    auto consumer = HandAssignedConsumer((*broker)->bootstrap(), "defaults-test-3", c.kafka, c.overrides);
    ASSERT_TRUE(consumer.ok()) << consumer.status().message();
    EXPECT_EQ(ConfValue(consumer->get(), "queued.min.messages"), c.want);
  }

  // A topic tail (the demo's and the tests' reader of a topic): the same defaults.
  auto tail = TopicTail::Open((*broker)->bootstrap(), "in");
  ASSERT_TRUE(tail.ok()) << tail.status().message();
  EXPECT_EQ((*tail)->Setting("queued.min.messages"), "1000000");
  auto tail_configured = TopicTail::Open((*broker)->bootstrap(), "in", {{"queued.min.messages", "9000"}});
  ASSERT_TRUE(tail_configured.ok()) << tail_configured.status().message();
  EXPECT_EQ((*tail_configured)->Setting("queued.min.messages"), "9000");
}

}  // namespace
}  // namespace leadscore::stream
