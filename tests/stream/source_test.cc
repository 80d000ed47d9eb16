// The Kafka source over the embedded broker: a poll's limit (the time budget per batch
// sets it) bounds what one poll takes, and what it leaves is taken by the next polls,
// each record once and in order.
#include "stream/source.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "stream/embedded_broker.h"
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

}  // namespace
}  // namespace leadscore::stream
