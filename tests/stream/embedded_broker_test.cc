// The embedded broker speaks the Kafka protocol over TCP: a separate librdkafka client
// lists its topics and round-trips records through it.
#include "stream/embedded_broker.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
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

// The broker's side of every connection it accepted: this process's TCP sockets bound
// to `port` that are not the listener. Each with its TCP_NODELAY.
std::vector<int> AcceptedNoDelay(uint16_t port) {
  std::vector<int> out;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    const int fd = std::atoi(entry.path().filename().c_str());
    struct stat st {};
    if (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) continue;
    int listening = 0;
    socklen_t len = sizeof listening;
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || listening) continue;
    sockaddr_in local{};
    len = sizeof local;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) != 0 || local.sin_family != AF_INET) continue;
    if (ntohs(local.sin_port) != port) continue;
    int nodelay = 0;
    len = sizeof nodelay;
    getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &nodelay, &len);
    out.push_back(nodelay);
  }
  return out;
}

// Responses written one send() each behind Nagle's algorithm wait for the client's
// delayed ACK (40 ms) whenever requests are pipelined: the broker's side of a
// connection must have it off, whatever the client asked for.
TEST(EmbeddedBrokerTest, ConnectionsItAcceptsHaveNagleOff) {
  auto broker = EmbeddedBroker::Start({.brokers = 1, .partitions = 1, .topics = {"t"}});
  ASSERT_TRUE(broker.ok());
  testing::TestProducer producer((*broker)->bootstrap(), {{"socket.nagle.disable", "false"}});
  producer.Send("t", "k", "v");
  producer.Flush();  // delivered: the broker accepted the producer's connection
  const std::string& bootstrap = (*broker)->bootstrap();
  const auto port = static_cast<uint16_t>(std::atoi(bootstrap.c_str() + bootstrap.rfind(':') + 1));
  const std::vector<int> accepted = AcceptedNoDelay(port);
  ASSERT_FALSE(accepted.empty());
  for (int nodelay : accepted) EXPECT_EQ(nodelay, 1);
}

}  // namespace
}  // namespace leadscore::stream
