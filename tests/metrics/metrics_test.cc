// The registry wrapper: an exposition Prometheus accepts (checked with `promtool check
// metrics`, the tool ops use), clean bucket bounds, series present from the start,
// collectors read on every scrape, and the process metrics read from /proc.
#include "metrics/metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>

#include "metrics/process_stats.h"

namespace leadscore::metrics {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

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

// Counters with odd label values, a gauge, a histogram, a collector, the process metrics.
std::string SampleText(Registry& r) {
  auto consumed = r.AddCounterFamily("leadscore_records_consumed_total", "Records read from the input topics.");
  consumed.With({{"topic", "engagement-events"}}).Increment(12);
  consumed.With({{"topic", "profiles"}}).Increment(3);
  auto dead = r.AddCounterFamily("leadscore_dead_letters_total", "Records sent to the dead-letter topic,\nby reason.");
  dead.With({{"reason", "unparseable"}}).Increment();
  dead.With({{"reason", "key \"odd\"\nvalue\\"}}).Increment(2);
  r.AddGauge("leadscore_ready", "1 when ready.").Set(1);
  Histogram h = r.AddHistogram("leadscore_batch_seconds", "Time to process one batch.", LatencyBounds());
  for (double v : {0.0001, 0.002, 0.3, 5.0}) h.Observe(v);
  r.AddCollector([](Collection& out) {
    out.Gauge("leadscore_consumer_lag", "Records behind.", {{{{"topic", "profiles"}, {"partition", "0"}}, 7}});
    out.Gauge("leadscore_stream_time_seconds", "Stream time per partition.", {});
  });
  AddProcessMetrics(r);
  return r.Text();
}

TEST(MetricsTest, PromtoolAcceptsTheExposition) {
  Registry r;
  const std::string text = SampleText(r);
  auto [status, out] = Promtool(text);
  EXPECT_EQ(status, 0) << out << "\n" << text;
}

TEST(MetricsTest, PromtoolWouldCatchABrokenExposition) {
  auto [status, out] = Promtool("# TYPE x counter\nx{le=\"1\" 3\n");
  EXPECT_NE(status, 0) << "the check itself must be able to fail";
}

TEST(MetricsTest, BucketBoundsArePrintedAsWritten) {
  Registry r;
  const std::string text = SampleText(r);
  for (const char* le : {"0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5"}) {
    EXPECT_THAT(text, HasSubstr("leadscore_batch_seconds_bucket{le=\"" + std::string(le) + "\"} ")) << text;
  }
  EXPECT_THAT(text, Not(HasSubstr("00000000"))) << "no binary noise in any number";
}

TEST(MetricsTest, HistogramBucketsAreCumulativeAndIncludeTheirBound) {
  Registry r;
  Histogram h = r.AddHistogram("h_seconds", "h", {0.001, 0.01});
  for (double v : {0.0005, 0.001, 0.002, 5.0}) h.Observe(v);
  const std::string text = r.Text();
  EXPECT_THAT(text, HasSubstr("h_seconds_bucket{le=\"0.001\"} 2\n")) << "0.001 is counted at le=0.001";
  EXPECT_THAT(text, HasSubstr("h_seconds_bucket{le=\"0.01\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("h_seconds_bucket{le=\"+Inf\"} 4\n")) << "5 s is above the last bound";
  EXPECT_THAT(text, HasSubstr("h_seconds_count 4\n"));
  EXPECT_THAT(text, HasSubstr("h_seconds_sum 5.0035\n"));
}

TEST(MetricsTest, SeriesExistAtZeroOnceDeclared) {
  Registry r;
  Counter plain = r.AddCounter("plain_total", "p");
  auto family = r.AddCounterFamily("by_reason_total", "r");
  for (const char* reason : {"a", "b"}) family.With({{"reason", reason}});
  family.With({{"reason", "b"}}).Increment(2);
  const std::string text = r.Text();
  EXPECT_THAT(text, HasSubstr("plain_total 0\n"));
  EXPECT_THAT(text, HasSubstr("by_reason_total{reason=\"a\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("by_reason_total{reason=\"b\"} 2\n")) << "With() finds the same series again";
  plain.Increment(-1);
  EXPECT_EQ(plain.value(), 0) << "a counter never goes down";
}

TEST(MetricsTest, AGaugeSeriesCanBeRemovedAndComesBackAtZero) {
  Registry r;
  auto info = r.AddGaugeFamily("model_info", "m");
  info.With({{"model_version", "v1"}}).Set(1);
  info.Remove({{"model_version", "v1"}});
  info.Remove({{"model_version", "never-there"}});
  info.With({{"model_version", "v2"}}).Set(1);
  const std::string text = r.Text();
  EXPECT_THAT(text, Not(HasSubstr("v1")));
  EXPECT_THAT(text, HasSubstr("model_info{model_version=\"v2\"} 1\n"));
}

TEST(MetricsTest, FamiliesAreSortedByNameAndSeriesByLabels) {
  Registry r;
  auto b = r.AddCounterFamily("b_total", "b");
  for (const char* t : {"z", "a", "m"}) b.With({{"topic", t}});
  r.AddGauge("a", "a");
  r.AddCollector([](Collection& out) { out.Gauge("c", "c", 1); });
  const std::string text = r.Text();
  EXPECT_LT(text.find("# TYPE a gauge"), text.find("# TYPE b_total counter"));
  EXPECT_LT(text.find("# TYPE b_total counter"), text.find("# TYPE c gauge"));
  EXPECT_LT(text.find("topic=\"a\""), text.find("topic=\"m\""));
  EXPECT_LT(text.find("topic=\"m\""), text.find("topic=\"z\""));
}

TEST(MetricsTest, CollectorsAreReadOnEveryScrapeAndShowEmptyFamilies) {
  Registry r;
  int reads = 0;
  r.AddCollector([&](Collection& out) {
    ++reads;
    out.Counter("reads_total", "Scrapes so far.", reads);
    out.Gauge("nothing_yet", "A family with no series.", {});
  });
  EXPECT_THAT(r.Text(), HasSubstr("reads_total 1\n"));
  const std::string text = r.Text();
  EXPECT_THAT(text, HasSubstr("reads_total 2\n"));
  EXPECT_THAT(text, HasSubstr("# HELP nothing_yet A family with no series.\n# TYPE nothing_yet gauge\n"));
}

TEST(MetricsTest, HelpIsEscaped) {
  Registry r;
  r.AddGauge("g", "one\\two\nthree");
  EXPECT_THAT(r.Text(), HasSubstr("# HELP g one\\\\two\\nthree\n"));
}

TEST(MetricsTest, ANameUsedTwiceOrInvalidIsRefused) {
  Registry r;
  r.AddCounter("x_total", "x");
  EXPECT_THROW(r.AddCounter("x_total", "again"), std::invalid_argument);
  EXPECT_THROW(r.AddGauge("x_total", "as a gauge"), std::invalid_argument);
  EXPECT_THROW(r.AddGauge("not a name", "n"), std::invalid_argument);
}

// A /proc of our own: the numbers are known.
class ProcessStatsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // One directory per test: ctest runs the tests of this binary in parallel.
    proc_ = ::testing::TempDir() + "/leadscore-fake-proc-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(proc_);
    std::filesystem::create_directories(proc_ + "/self/fd");
    for (const char* fd : {"0", "1", "2", "7"}) std::ofstream(proc_ + "/self/fd/" + fd);
    // pid (comm with ") (" inside) state ppid ... utime=250 stime=50 ... starttime=1000 vsize rss
    std::ofstream(proc_ + "/self/stat")
        << "4242 (lead) (score) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 9 0 1000 123456789 2048 "
           "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";
    std::ofstream(proc_ + "/stat") << "cpu  1 2 3 4\nintr 1\nbtime 1700000000\nprocesses 5\n";
    std::ofstream(proc_ + "/self/limits")
        << "Limit                     Soft Limit           Hard Limit           Units     \n"
           "Max open files            1024                 524288               files     \n";
  }
  void TearDown() override { std::filesystem::remove_all(proc_); }
  std::string proc_;
};

TEST_F(ProcessStatsTest, ReadsStatFdsAndLimits) {
  const ProcessStats s = ReadProcessStats(proc_, 100, 4096);
  EXPECT_EQ(s.cpu_seconds, 3.0) << "(250 + 50) ticks at 100 a second";
  EXPECT_EQ(s.start_time_seconds, 1700000010.0) << "boot time + 1000 ticks";
  EXPECT_EQ(s.virtual_bytes, 123456789.0);
  EXPECT_EQ(s.resident_bytes, 2048.0 * 4096);
  EXPECT_EQ(s.open_fds, 4.0);
  EXPECT_EQ(s.max_fds, 1024.0);
}

TEST_F(ProcessStatsTest, WhatCannotBeReadIsLeftOut) {
  std::filesystem::remove(proc_ + "/stat");
  std::filesystem::remove(proc_ + "/self/limits");
  std::ofstream(proc_ + "/self/stat") << "garbage";
  const ProcessStats s = ReadProcessStats(proc_, 100, 4096);
  EXPECT_FALSE(s.cpu_seconds || s.start_time_seconds || s.resident_bytes || s.max_fds);
  EXPECT_EQ(s.open_fds, 4.0);
  Registry r;
  AddProcessMetrics(r, proc_);
  const std::string text = r.Text();
  EXPECT_THAT(text, HasSubstr("process_open_fds 4\n"));
  EXPECT_THAT(text, Not(HasSubstr("process_cpu_seconds_total")));
}

TEST(ProcessMetricsTest, ThisProcessHasAllSix) {
  Registry r;
  AddProcessMetrics(r);
  const std::string text = r.Text();
  for (const char* name : {"process_cpu_seconds_total", "process_resident_memory_bytes", "process_virtual_memory_bytes",
                           "process_open_fds", "process_max_fds", "process_start_time_seconds"}) {
    EXPECT_THAT(text, HasSubstr(std::string("\n") + name + " ")) << text;
  }
  const ProcessStats s = ReadProcessStats("/proc", sysconf(_SC_CLK_TCK), sysconf(_SC_PAGESIZE));
  ASSERT_TRUE(s.start_time_seconds && s.resident_bytes && s.open_fds);
  EXPECT_GT(*s.resident_bytes, 0);
  EXPECT_GE(*s.open_fds, 3) << "stdin, stdout, stderr at least";
  EXPECT_GT(*s.start_time_seconds, 1.5e9) << "a Unix time, not seconds since boot";
  EXPECT_LE(*s.start_time_seconds, static_cast<double>(std::time(nullptr)) + 1);
}

}  // namespace
}  // namespace leadscore::metrics
