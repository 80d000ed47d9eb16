// The service's metrics on their own: lag of partitions never read, series that go
// with a revoked partition, every reason, topic and tier present from the start.
#include "stream/service_metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/harness.h"

namespace leadscore::stream {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(ServiceMetricsTest, LagCountsFromTheLowWatermarkWhenNothingWasRead) {
  EXPECT_EQ(ServiceMetrics::Lag(-1, -1, 0), 0) << "an empty partition, never read";
  EXPECT_EQ(ServiceMetrics::Lag(-1, 5, 5), 0) << "retention dropped everything";
  EXPECT_EQ(ServiceMetrics::Lag(-1, -1, 7), 7) << "seven records, none read";
  EXPECT_EQ(ServiceMetrics::Lag(3, 0, 7), 4);
  EXPECT_EQ(ServiceMetrics::Lag(7, 0, 7), 0);
  EXPECT_EQ(ServiceMetrics::Lag(9, 0, 7), 0) << "a watermark seen before the last fetch";
}

TEST(ServiceMetricsTest, ARevokedPartitionsSeriesGoWithIt) {
  ServiceMetrics m;
  m.Resumed("events", 0, 10);
  m.Resumed("events", 1, -1);
  ServiceMetrics::Sources s;
  s.watermarks = [](const std::string&, int32_t p) { return std::pair<int64_t, int64_t>{0, p == 0 ? 12 : 0}; };
  m.SetSources(s);
  std::string text = m.Text();
  EXPECT_THAT(text, HasSubstr(R"(leadscore_consumer_lag{partition="0",topic="events"} 2)"));
  EXPECT_THAT(text, HasSubstr(R"(leadscore_consumer_lag{partition="1",topic="events"} 0)"));
  m.Revoked(0);
  text = m.Text();
  EXPECT_THAT(text, Not(HasSubstr(R"(partition="0")")));
  EXPECT_EQ(m.Position("events", 0), -1);
  EXPECT_THAT(text, HasSubstr(R"(leadscore_consumer_lag{partition="1",topic="events"} 0)"));
}

TEST(ServiceMetricsTest, EveryReasonHasASeriesFromTheStart) {
  ServiceMetrics m;
  const std::string text = m.Text();
  for (codec::Refusal r : codec::kAllRefusals) {
    EXPECT_THAT(text, HasSubstr("leadscore_dead_letters_total{reason=\"" + std::string(codec::RefusalName(r)) + "\"} 0"));
  }
  for (engine::ApplyOutcome k : kSkips) {
    EXPECT_THAT(text, HasSubstr("leadscore_records_skipped_total{reason=\"" + std::string(engine::OutcomeName(k)) + "\"} 0"));
  }
  m.DeadLetter(codec::Refusal::kBadTime);
  EXPECT_THAT(m.Text(), HasSubstr(R"(leadscore_dead_letters_total{reason="bad_time"} 1)"));
  EXPECT_EQ(m.DeadLettersByReason().at("bad_time"), 1u);
}

TEST(ServiceMetricsTest, EveryTopicAndTierOfTheModelHasASeriesFromTheStart) {
  ServiceMetrics m;
  m.InputTopics({"engagement-events", "profiles"});
  m.ModelLoaded(*testing::MustLoad(testing::kTestModel));
  const std::string text = m.Text();
  EXPECT_THAT(text, HasSubstr(R"(leadscore_records_consumed_total{topic="engagement-events"} 0)"));
  EXPECT_THAT(text, HasSubstr(R"(leadscore_records_consumed_total{topic="profiles"} 0)"));
  for (const char* tier : {"hot", "warm", "cold"}) {
    for (const char* direction : {"up", "down"}) {
      EXPECT_THAT(text, HasSubstr(std::string("leadscore_routing_events_total{direction=\"") + direction +
                                  "\",entity=\"lead\",tier=\"" + tier + "\"} 0"));
    }
  }
  for (const char* tier : {"A", "C"}) {
    EXPECT_THAT(text, HasSubstr(std::string("leadscore_routing_events_total{direction=\"up\",entity=\"account\",tier=\"") +
                                tier + "\"} 0"));
  }
  EXPECT_THAT(text, HasSubstr(R"(leadscore_routing_events_total{direction="down",entity="lead",tier="disqualified"} 0)"));
  EXPECT_THAT(text, HasSubstr(R"(leadscore_routing_events_total{direction="down",entity="account",tier="disqualified"} 0)"));
  EXPECT_THAT(text, HasSubstr(R"(leadscore_routing_events_total{direction="down",entity="lead",tier="suppressed"} 0)"));
}

TEST(ServiceMetricsTest, BuildAndModelInfoNameWhatRuns) {
  ServiceMetrics m("1.2.3");
  auto first = testing::MustLoad(testing::kTestModel);
  m.ModelLoaded(*first);
  std::string text = m.Text();
  EXPECT_THAT(text, HasSubstr(R"(leadscore_build_info{version="1.2.3"} 1)"));
  EXPECT_THAT(text, HasSubstr("leadscore_model_info{model_version=\"" + first->version + "\"} 1"));
  std::string yaml = testing::kTestModel;
  yaml.replace(yaml.find("version: test"), 13, "version: next");
  auto next = testing::MustLoad(yaml);
  ASSERT_NE(next->version, first->version);
  m.ModelLoaded(*next);
  text = m.Text();
  EXPECT_THAT(text, HasSubstr("leadscore_model_info{model_version=\"" + next->version + "\"} 1"));
  EXPECT_THAT(text, Not(HasSubstr(first->version))) << "one model runs at a time";
  EXPECT_STRNE(ServiceMetrics::kBuildVersion, "unknown") << "CMake's project version reaches the build";
}

TEST(ServiceMetricsTest, ProcessMetricsAreExposed) {
  const std::string text = ServiceMetrics().Text();
  EXPECT_THAT(text, HasSubstr("\nprocess_resident_memory_bytes "));
  EXPECT_THAT(text, HasSubstr("\nprocess_start_time_seconds "));
}

TEST(ServiceMetricsTest, RebalancesResumesAndCommitsAreCounted) {
  ServiceMetrics m;
  std::string text = m.Text();
  EXPECT_THAT(text, HasSubstr(R"(leadscore_rebalances_total{kind="assign"} 0)"));
  EXPECT_THAT(text, HasSubstr(R"(leadscore_rebalances_total{kind="revoke"} 0)"));
  EXPECT_THAT(text, HasSubstr("leadscore_restoring_partitions 0\n"));
  EXPECT_THAT(text, HasSubstr("leadscore_last_commit_timestamp_seconds 0\n")) << "no commit yet";
  EXPECT_THAT(text, HasSubstr("leadscore_commit_failures_total 0\n"));
  EXPECT_THAT(text, HasSubstr("leadscore_producer_errors_total 0\n"));

  m.ResumeStarted();
  m.ResumeStarted();
  text = m.Text();
  EXPECT_THAT(text, HasSubstr("leadscore_restoring_partitions 2\n")) << "seen by a scrape during the resume";
  EXPECT_THAT(text, HasSubstr(R"(leadscore_rebalances_total{kind="assign"} 2)"));
  m.ResumeFinished(0.02);
  m.ResumeFinished(3);
  m.Revoked(1);
  m.Committed(1790000000.5, 0.004, 3);
  m.CommitFailed();
  ServiceMetrics::Sources s;
  s.producer_errors = [] { return uint64_t{3}; };
  m.SetSources(s);
  text = m.Text();
  EXPECT_THAT(text, HasSubstr("leadscore_restoring_partitions 0\n"));
  EXPECT_THAT(text, HasSubstr(R"(leadscore_partition_resume_seconds_bucket{le="0.1"} 1)"));
  EXPECT_THAT(text, HasSubstr(R"(leadscore_partition_resume_seconds_bucket{le="5"} 2)"));
  EXPECT_THAT(text, HasSubstr(R"(leadscore_rebalances_total{kind="revoke"} 1)"));
  EXPECT_THAT(text, HasSubstr("leadscore_last_commit_timestamp_seconds 1790000000.5\n")) << "not in 1e+09 notation";
  EXPECT_THAT(text, HasSubstr(R"(leadscore_commit_batches_bucket{le="5"} 1)")) << "three batches merged into one commit";
  EXPECT_THAT(text, HasSubstr(R"(leadscore_commit_batches_bucket{le="2"} 0)"));
  EXPECT_THAT(text, HasSubstr("leadscore_commit_failures_total 1\n"));
  EXPECT_THAT(text, HasSubstr("leadscore_producer_errors_total 3\n"));
}

TEST(ServiceMetricsTest, RocksDbStatisticsAreCountersAndGauges) {
  ServiceMetrics m;
  EXPECT_THAT(m.Text(), Not(HasSubstr("leadscore_rocksdb_"))) << "no store, no RocksDB metrics";
  ServiceMetrics::Sources s;
  s.store = [] {
    return store::StateStore::Stats{.bytes = 5000, .memtable_bytes = 2048, .block_cache_usage_bytes = 4096,
                                    .pending_compaction_bytes = 123, .block_cache_hits = 90, .block_cache_misses = 10,
                                    .stall_micros = 2500000, .keys_read_alone = 7, .keys_read_together = 700};
  };
  m.SetSources(s);
  const std::string text = m.Text();
  EXPECT_THAT(text, HasSubstr("leadscore_state_bytes 5000\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE leadscore_rocksdb_block_cache_hits_total counter\nleadscore_rocksdb_block_cache_hits_total 90\n"));
  EXPECT_THAT(text, HasSubstr("leadscore_rocksdb_block_cache_misses_total 10\n"));
  EXPECT_THAT(text, HasSubstr("leadscore_rocksdb_block_cache_usage_bytes 4096\n"));
  EXPECT_THAT(text, HasSubstr("leadscore_rocksdb_memtable_bytes 2048\n"));
  EXPECT_THAT(text, HasSubstr("leadscore_rocksdb_pending_compaction_bytes 123\n"));
  EXPECT_THAT(text, HasSubstr("leadscore_rocksdb_stall_seconds_total 2.5\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE leadscore_rocksdb_keys_read_total counter\n"));
  EXPECT_THAT(text, HasSubstr("leadscore_rocksdb_keys_read_total{read=\"alone\"} 7\n"));
  EXPECT_THAT(text, HasSubstr("leadscore_rocksdb_keys_read_total{read=\"together\"} 700\n"));
  EXPECT_THAT(text, Not(HasSubstr("ratio"))) << "hits and misses, not a ratio since start";
}

TEST(ServiceMetricsTest, KafkaStatisticsArePerClientAndZeroUntilTheyArrive) {
  ServiceMetrics m;
  std::string text = m.Text();
  EXPECT_THAT(text, HasSubstr("leadscore_kafka_producer_queue_messages 0\n"));
  EXPECT_THAT(text, HasSubstr("leadscore_kafka_broker_rtt_seconds 0\n"));
  EXPECT_THAT(text, HasSubstr("leadscore_kafka_consumer_errors_total 0\n"));
  ServiceMetrics::Sources s;
  s.producer_stats = [] { return KafkaStats{.queue_messages = 7, .rtt_seconds = 0.002, .retries = 3,
                                            .request_timeouts = 1, .disconnects = 2}; };
  s.consumer_stats = [] { return KafkaStats{.rtt_seconds = 0.25, .disconnects = 4}; };
  s.consumer_errors = [] { return uint64_t{6}; };
  m.SetSources(s);
  text = m.Text();
  EXPECT_THAT(text, HasSubstr("leadscore_kafka_producer_queue_messages 7\n"));
  EXPECT_THAT(text, HasSubstr("leadscore_kafka_producer_retries_total 3\n"));
  EXPECT_THAT(text, HasSubstr("leadscore_kafka_broker_rtt_seconds 0.002\n"))
      << "the producer's: the consumer's fetches wait on the broker by design";
  EXPECT_THAT(text, HasSubstr(R"(leadscore_kafka_request_timeouts_total{client="producer"} 1)"));
  EXPECT_THAT(text, HasSubstr(R"(leadscore_kafka_broker_disconnects_total{client="consumer"} 4)"));
  EXPECT_THAT(text, HasSubstr("leadscore_kafka_consumer_errors_total 6\n"));
}

TEST(ServiceMetricsTest, DecayChecksNeverFallWhenAPartitionLeaves) {
  ServiceMetrics m;
  m.DecayChecks(0, 5);
  m.DecayChecks(1, 2);
  m.DecayChecks(0, 7);
  EXPECT_THAT(m.Text(), HasSubstr("leadscore_decay_checks_total 9\n"));
  m.Revoked(1);
  EXPECT_THAT(m.Text(), HasSubstr("leadscore_decay_checks_total 9\n")) << "partition 1's checks stay counted";
  m.DecayChecks(1, 1);  // assigned again: its task counts from 0
  EXPECT_THAT(m.Text(), HasSubstr("leadscore_decay_checks_total 10\n"));
}

}  // namespace
}  // namespace leadscore::stream
