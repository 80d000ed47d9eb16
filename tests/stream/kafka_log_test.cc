// librdkafka's own lines come through spdlog's "librdkafka" logger, in the service's
// format, with the client and facility as fields.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <nlohmann/json.hpp>

#include "logging/lines_sink.h"
#include "logging/logging.h"
#include "stream/kafka_handle.h"

namespace leadscore::stream {
namespace {

TEST(KafkaLogTest, LibrdkafkaLinesGoThroughSpdlogAsJsonWithClientAndFacility) {
  auto sink = std::make_shared<testing::LinesSink>();
  sink->set_formatter(logging::MakeFormatter(logging::Format::kJson));
  spdlog::drop("librdkafka");
  spdlog::register_logger(std::make_shared<spdlog::logger>("librdkafka", sink));

  // Nothing listens on port 1: the connection fails and librdkafka says so.
  auto conf = MakeConf({{"bootstrap.servers", "127.0.0.1:1"}});
  ASSERT_TRUE(conf.ok());
  char err[512];
  KafkaPtr rk(rd_kafka_new(RD_KAFKA_PRODUCER, conf->release(), err, sizeof err));
  ASSERT_TRUE(rk) << err;
  const std::string client = rd_kafka_name(rk.get());
  std::vector<std::string> lines;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (lines.empty() && std::chrono::steady_clock::now() < until) {
    rd_kafka_poll(rk.get(), 100);  // waits on librdkafka's queue, not on a timer
    lines = sink->Lines();
  }
  rk.reset();
  spdlog::drop("librdkafka");
  ASSERT_FALSE(lines.empty()) << "librdkafka said nothing about a refused connection within 30 s";
  const auto j = nlohmann::json::parse(lines.front());
  EXPECT_EQ(j["logger"], "librdkafka");
  EXPECT_EQ(j["client"], client);
  EXPECT_FALSE(j["facility"].get<std::string>().empty());
  EXPECT_THAT(j["message"].get<std::string>(), ::testing::HasSubstr("127.0.0.1:1"));
  EXPECT_THAT(j["time"].get<std::string>(), ::testing::EndsWith("Z"));
}

}  // namespace
}  // namespace leadscore::stream
