// librdkafka's own lines come through spdlog's "librdkafka" logger, in the service's
// format, with the client and facility as fields.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/base_sink.h>

#include <chrono>
#include <mutex>
#include <nlohmann/json.hpp>

#include "logging/logging.h"
#include "stream/kafka_handle.h"

namespace leadscore::stream {
namespace {

// Keeps the formatted lines; written on librdkafka's threads, read on the test's.
class LinesSink : public spdlog::sinks::base_sink<std::mutex> {
 public:
  std::vector<std::string> Lines() {
    std::lock_guard lock(mutex_);
    return lines_;
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t buf;
    formatter_->format(msg, buf);
    lines_.emplace_back(buf.data(), buf.size());
  }
  void flush_() override {}

 private:
  std::vector<std::string> lines_;
};

TEST(KafkaLogTest, LibrdkafkaLinesGoThroughSpdlogAsJsonWithClientAndFacility) {
  auto sink = std::make_shared<LinesSink>();
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
