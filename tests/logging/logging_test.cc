#include "logging/logging.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <nlohmann/json.hpp>
#include <sstream>

namespace leadscore::logging {
namespace {

using ::testing::HasSubstr;

// A logger writing into a string in `format`, at a fixed time.
struct Captured {
  explicit Captured(Format format) : sink(std::make_shared<spdlog::sinks::ostream_sink_st>(out)) {
    sink->set_formatter(MakeFormatter(format));
  }
  std::string Log(spdlog::level::level_enum level, std::string_view message) {
    out.str("");
    // 2026-11-23T10:00:00.123Z
    const spdlog::log_clock::time_point at{std::chrono::milliseconds(1795428000123LL)};
    sink->log(spdlog::details::log_msg(at, spdlog::source_loc{}, "leadscore", level, message));
    return out.str();
  }
  std::ostringstream out;
  std::shared_ptr<spdlog::sinks::ostream_sink_st> sink;
};

TEST(LoggingTest, JsonIsOneObjectPerLineWithUtcMillisecondsAndTheFields) {
  Captured c(Format::kJson);
  ScopedFields outer({{"topic", std::string("engagement-events")}, {"partition", int64_t{3}}});
  std::string line;
  {
    ScopedFields inner({{"ratio", 0.25}});
    line = c.Log(spdlog::level::warn, "a \"quoted\"\nmessage");
  }
  ASSERT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1) << "one line";
  const auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["time"], "2026-11-23T10:00:00.123Z");
  EXPECT_EQ(j["level"], "warning");
  EXPECT_EQ(j["logger"], "leadscore");
  EXPECT_EQ(j["message"], "a \"quoted\"\nmessage");
  EXPECT_EQ(j["topic"], "engagement-events");
  EXPECT_EQ(j["partition"], 3);
  EXPECT_EQ(j["ratio"], 0.25);
  EXPECT_THAT(line, ::testing::StartsWith(R"({"time":"2026-11-23T10:00:00.123Z","level":"warning")"));

  const auto after = nlohmann::json::parse(c.Log(spdlog::level::info, "x"));
  EXPECT_FALSE(after.contains("ratio")) << "the inner scope ended";
  EXPECT_EQ(after["partition"], 3);
}

TEST(LoggingTest, JsonReplacesInvalidUtf8InsteadOfFailing) {
  Captured c(Format::kJson);
  const auto j = nlohmann::json::parse(c.Log(spdlog::level::warn, "bytes \xff\xfe of a record"));
  EXPECT_THAT(j["message"].get<std::string>(), HasSubstr("of a record"));
}

TEST(LoggingTest, TextIsUtcWithItsZone) {
  Captured c(Format::kText);
  EXPECT_EQ(c.Log(spdlog::level::info, "hello"), "2026-11-23T10:00:00.123Z [leadscore] [info] hello\n");
}

TEST(LoggingTest, ThrottleLogsTheFirstThenOneLinePerIntervalWithTheCountLeftOut) {
  Throttle t(10'000);
  EXPECT_EQ(t.Admit("dead_letter:unparseable", 1'000), 0u);
  EXPECT_EQ(t.Admit("dead_letter:unparseable", 1'001), std::nullopt);
  EXPECT_EQ(t.Admit("dead_letter:unparseable", 5'000, 7), std::nullopt);
  EXPECT_EQ(t.Admit("dead_letter:bad_time", 5'000), 0u) << "kinds are throttled apart";
  EXPECT_EQ(t.Admit("dead_letter:unparseable", 10'999), std::nullopt);
  EXPECT_EQ(t.Admit("dead_letter:unparseable", 11'000), 9u) << "1 + 7 + 1 left out since the line at 1000";
  EXPECT_EQ(t.Admit("dead_letter:unparseable", 11'001), std::nullopt);
  EXPECT_EQ(t.Admit("dead_letter:unparseable", 50'000), 1u);
}

}  // namespace
}  // namespace leadscore::logging
