// The exposition is valid for Prometheus: checked with `promtool check metrics`.
#include "metrics/metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

namespace leadscore::metrics {
namespace {

// Runs promtool on `text`; returns its exit status and output.
std::pair<int, std::string> Promtool(const std::string& text) {
  // One file per test: ctest runs the tests of this binary in parallel.
  const std::string path = ::testing::TempDir() + "/leadscore-metrics-" +
                           ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".txt";
  std::ofstream(path) << text;
  FILE* p = popen(("promtool check metrics < " + path + " 2>&1").c_str(), "r");
  std::string out;
  char buf[256];
  while (p && fgets(buf, sizeof buf, p)) out += buf;
  const int status = p ? pclose(p) : -1;
  return {status, out};
}

Exposition Sample() {
  Exposition e;
  e.Counter("leadscore_records_consumed_total", "Records read from the input topics.",
            {{{{"topic", "engagement-events"}}, 12}, {{{"topic", "profiles"}}, 3}});
  e.Counter("leadscore_dead_letters_total", "Records sent to the dead-letter topic, by reason.",
            {{{{"reason", "unparseable"}}, 1}, {{{"reason", "key \"odd\"\nvalue"}}, 2}});
  e.Gauge("leadscore_consumer_lag", "Records not yet read, per input partition.",
          {{{{"topic", "profiles"}, {"partition", "0"}}, 0}});
  Histogram h;
  for (double v : {0.0001, 0.002, 0.3, 5.0}) h.Observe(v);
  e.HistogramOf("leadscore_batch_seconds", "Time to process one batch.", h.Read());
  return e;
}

TEST(MetricsTest, PromtoolAcceptsTheExposition) {
  auto [status, out] = Promtool(Sample().Text());
  EXPECT_EQ(status, 0) << out << "\n" << Sample().Text();
}

TEST(MetricsTest, PromtoolWouldCatchABrokenExposition) {
  auto [status, out] = Promtool("# TYPE x counter\nx{le=\"1\" 3\n");
  EXPECT_NE(status, 0) << "the check itself must be able to fail";
}

TEST(MetricsTest, HistogramBucketsAreCumulative) {
  Histogram h;
  for (double v : {0.0001, 0.002, 0.3, 5.0}) h.Observe(v);
  auto s = h.Read();
  EXPECT_EQ(s.count, 4u);
  EXPECT_EQ(s.buckets[0], 1u);  // <= 0.5 ms
  EXPECT_EQ(s.buckets[2], 2u);  // <= 2.5 ms
  EXPECT_EQ(s.buckets.back(), 3u) << "5 s is above the last bound: only in +Inf";
  EXPECT_NEAR(s.sum, 5.3021, 1e-6);
  EXPECT_THAT(Sample().Text(), ::testing::HasSubstr("leadscore_batch_seconds_bucket{le=\"+Inf\"} 4"));
}

}  // namespace
}  // namespace leadscore::metrics
