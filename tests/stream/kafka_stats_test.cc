// librdkafka's statistics JSON reduced to what the metrics show: sums over broker
// connections, the mean RTT of brokers that had round trips, the producer's queue.
#include "stream/kafka_stats.h"

#include <gtest/gtest.h>

namespace leadscore::stream {
namespace {

// The shape librdkafka 2.0 writes (STATISTICS.md), trimmed; two brokers and the
// consumer group's logical coordinator connection.
constexpr const char* kStats = R"({
  "name": "rdkafka#producer-1", "type": "producer", "ts": 10170380580, "time": 1796247448,
  "replyq": 0, "msg_cnt": 42, "msg_size": 4200, "msg_max": 100000, "tx": 4, "rx": 4,
  "brokers": {
    "b1:9092/1": {"name": "b1:9092/1", "nodeid": 1, "state": "UP", "txretries": 3, "req_timeouts": 1,
                  "disconnects": 2, "txerrs": 0, "rxerrs": 0,
                  "rtt": {"min": 1000, "max": 9000, "avg": 2000, "p99": 9000, "cnt": 17}},
    "b2:9092/2": {"name": "b2:9092/2", "nodeid": 2, "state": "UP", "txretries": 1, "req_timeouts": 0,
                  "disconnects": 0, "rtt": {"avg": 4000, "cnt": 3}},
    "GroupCoordinator": {"nodeid": 1, "state": "UP", "txretries": 0, "req_timeouts": 0, "disconnects": 1,
                         "rtt": {"avg": 0, "cnt": 0}}
  },
  "topics": {"routing-events": {"partitions": {"0": {"msgq_cnt": 40}}}}
})";

TEST(KafkaStatsTest, SumsConnectionsAndAveragesTheRttOfBrokersWithRoundTrips) {
  auto s = ParseKafkaStats(kStats);
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->queue_messages, 42);
  EXPECT_EQ(s->retries, 4u);
  EXPECT_EQ(s->request_timeouts, 1u);
  EXPECT_EQ(s->disconnects, 3u);
  ASSERT_TRUE(s->rtt_seconds.has_value());
  EXPECT_DOUBLE_EQ(*s->rtt_seconds, 0.003) << "(2 ms + 4 ms) / 2; the idle coordinator does not count";
}

TEST(KafkaStatsTest, NotJsonIsAnError) {
  EXPECT_FALSE(ParseKafkaStats("{\"msg_cnt\": ").ok());
  EXPECT_FALSE(ParseKafkaStats("[1, 2]").ok());
  auto empty = ParseKafkaStats("{}");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->retries, 0u);
  EXPECT_FALSE(empty->rtt_seconds.has_value());
}

TEST(KafkaStatsTest, TheHolderKeepsTheLastGoodStatisticsAndTheLastKnownRtt) {
  KafkaStatsHolder holder;
  EXPECT_FALSE(holder.Get().rtt_seconds.has_value());
  holder.Update(kStats);
  holder.Update("garbage");
  EXPECT_EQ(holder.Get().queue_messages, 42) << "bad JSON changes nothing";
  holder.Update(R"({"msg_cnt": 0, "brokers": {"b1:9092/1": {"txretries": 5, "rtt": {"avg": 0, "cnt": 0}}}})");
  const KafkaStats s = holder.Get();
  EXPECT_EQ(s.queue_messages, 0);
  EXPECT_EQ(s.retries, 5u);
  EXPECT_DOUBLE_EQ(s.rtt_seconds.value_or(-1), 0.003) << "an interval without round trips keeps the last RTT";
}

}  // namespace
}  // namespace leadscore::stream
