// The service end to end over TCP: records produced into the embedded broker come out
// as routing events on the output topic and dead letters on the DLQ, with the SPEC's
// headers. Polls with deadlines; nothing sleeps.
#include "stream/service.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <fstream>
#include <filesystem>

#include "engine/harness.h"
#include "leadscore/v1/leadscore.pb.h"
#include "server/http_server.h"
#include "stream/embedded_broker.h"
#include "stream/kafka_test_util.h"

namespace leadscore::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string EventJson(const std::string& id, const std::string& lead, const std::string& account,
                      const std::string& type, int64_t at) {
  return R"({"event":{"event_id":")" + id + R"(","lead_id":")" + lead + R"(","account_id":")" + account +
         R"(","type":")" + type + R"(","occurred_at_ms":")" + std::to_string(at) + "\"}}";
}

class ServiceTest : public ::testing::Test {
 protected:
  std::unique_ptr<stream::Service> StartService(const std::string& state_dir = "") {
    stream::ServiceOptions o;
    o.brokers = broker_->bootstrap();
    o.group_id = "service-test";
    o.inputs = {{"engagement-events", codec::Format::kJson}, {"profiles", codec::Format::kProtobuf}};
    o.max_wait_ms = 20;
    o.store.dir = state_dir;
    // The embedded broker's coordinator waits out a departed member's session before
    // it rebalances: keep that short so a restart is quick.
    o.kafka_consumer = {{"session.timeout.ms", "6000"}, {"heartbeat.interval.ms", "500"}, {"fetch.wait.max.ms", "10"}};
    auto s = stream::Service::Start(MustLoad(kTestModel), o, [] { return kT0; });
    EXPECT_TRUE(s.ok()) << s.status().message();
    return s.ok() ? std::move(*s) : nullptr;
  }

  void SetUp() override {
    auto b = stream::EmbeddedBroker::Start(
        {.brokers = 1,
         .partitions = 2,
         .topics = {"engagement-events", "profiles", "sales-outcomes", "routing-events", "leadscore-dlq"}});
    ASSERT_TRUE(b.ok()) << b.status().message();
    broker_ = std::move(*b);
    state_dir_ = ::testing::TempDir() + "/leadscore-service-test-" +
                 ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(state_dir_);
    service_ = StartService(state_dir_);
    ASSERT_TRUE(service_);
  }
  void TearDown() override {
    service_.reset();
    std::filesystem::remove_all(state_dir_);
  }

  // Runs batches until `consumed` records were read, or a minute passed.
  void RunUntilConsumed(uint64_t consumed) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (service_->counters().consumed < consumed && std::chrono::steady_clock::now() < until) {
      ASSERT_TRUE(service_->RunOnce().ok());
    }
    ASSERT_EQ(service_->counters().consumed, consumed);
  }

  std::unique_ptr<stream::EmbeddedBroker> broker_;
  std::unique_ptr<stream::Service> service_;
  std::string state_dir_;
};

TEST_F(ServiceTest, EventsInRoutingEventsOutWithJsonAndProtobufInputs) {
  TestProducer producer(broker_->bootstrap());
  v1::Input account;
  account.mutable_account()->set_account_id("a1");
  account.mutable_account()->set_industry("software");
  account.mutable_account()->set_updated_at_ms(1);
  producer.Send("profiles", "a1", account.SerializeAsString());
  v1::Input lead;
  lead.mutable_lead()->set_lead_id("l1");
  lead.mutable_lead()->set_account_id("a1");
  lead.mutable_lead()->set_seniority("vp");
  lead.mutable_lead()->set_updated_at_ms(1);
  producer.Send("profiles", "a1", lead.SerializeAsString());
  producer.Flush();  // profiles first, so the events below see them
  RunUntilConsumed(2);
  producer.Send("engagement-events", "a1", EventJson("e1", "l1", "a1", "demo", kT0));
  producer.Flush();
  RunUntilConsumed(3);

  auto out = ReadTopic(broker_->bootstrap(), "routing-events", 2);
  ASSERT_EQ(out.size(), 2u);
  std::vector<std::string> story;
  for (const auto& r : out) {
    auto ev = codec::RoutingEventFromBinary(r.value);
    ASSERT_TRUE(ev.ok());
    EXPECT_EQ(r.key, "a1") << "keyed by account_id";
    story.push_back(ev->lead_id + " " + ev->from_tier + ">" + ev->to_tier);
  }
  EXPECT_THAT(story, ElementsAre("l1 cold>warm", "l1 warm>hot"));
  EXPECT_EQ(service_->counters().dead_letters, 0u);
}

TEST_F(ServiceTest, UnusableRecordsGoToTheDeadLetterTopicUnchangedWithHeaders) {
  TestProducer producer(broker_->bootstrap());
  const std::string garbage = "\xff\xfe not protobuf";
  producer.Send("profiles", "a1", garbage);
  producer.Send("engagement-events", "a1", R"({"event":{"lead_id":"l1"}})");
  producer.Send("engagement-events", "a2", EventJson("e1", "l1", "a1", "demo", kT0));
  producer.Send("engagement-events", "a1", EventJson("e2", "l1", "a1", "demo", kT0 + 2 * kHour));  // skew 1h
  producer.Send("engagement-events", "a1", EventJson("e3", "l1", "a1", "demo", kT0));  // good
  producer.Flush();
  RunUntilConsumed(5);
  EXPECT_EQ(service_->counters().processed, 1u);
  EXPECT_EQ(service_->counters().dead_letters, 4u);
  auto reasons = service_->DeadLettersByReason();
  EXPECT_EQ(reasons["unparseable"], 1u);
  EXPECT_EQ(reasons["missing_field"], 1u);
  EXPECT_EQ(reasons["key_mismatch"], 1u);
  EXPECT_EQ(reasons["bad_time"], 1u);

  auto dlq = ReadTopic(broker_->bootstrap(), "leadscore-dlq", 4);
  ASSERT_EQ(dlq.size(), 4u);
  bool saw_garbage = false;
  for (const auto& r : dlq) {
    EXPECT_FALSE(r.headers.at("error").empty());
    EXPECT_TRUE(r.headers.count("source.topic"));
    EXPECT_TRUE(r.headers.count("source.partition"));
    EXPECT_TRUE(r.headers.count("source.offset"));
    if (r.headers.at("source.topic") == "profiles") {
      saw_garbage = true;
      EXPECT_EQ(r.value, garbage) << "the record goes to the DLQ unchanged";
      EXPECT_EQ(r.key, "a1");
      EXPECT_THAT(r.headers.at("error"), HasSubstr("not a leadscore.v1.Input"));
    }
  }
  EXPECT_TRUE(saw_garbage);
}

TEST_F(ServiceTest, ARestartResumesFromTheStoredStateAndOffsetsWithoutDoubleCounting) {
  TestProducer producer(broker_->bootstrap());
  v1::Input account;
  account.mutable_account()->set_account_id("a1");
  account.mutable_account()->set_industry("software");
  account.mutable_account()->set_updated_at_ms(1);
  producer.Send("profiles", "a1", account.SerializeAsString());
  producer.Flush();
  RunUntilConsumed(1);
  // fit 50: score 25 + intent / 2. One demo: 45 (warm). Two: 65, intent 80 (hot).
  producer.Send("engagement-events", "a1", EventJson("e1", "l1", "a1", "demo", kT0));
  producer.Flush();
  RunUntilConsumed(2);
  service_.reset();  // clean stop: the batch was committed with its offsets

  service_ = StartService(state_dir_);
  ASSERT_TRUE(service_);
  producer.Send("engagement-events", "a1", EventJson("e1", "l1", "a1", "demo", kT0));  // a redelivery
  producer.Send("engagement-events", "a1", EventJson("e2", "l1", "a1", "demo", kT0));
  producer.Flush();
  RunUntilConsumed(2);  // only the two new records: nothing before them is read again

  auto out = ReadTopic(broker_->bootstrap(), "routing-events", 2);
  std::vector<std::string> story;
  for (const auto& r : out) {
    auto ev = codec::RoutingEventFromBinary(r.value);
    ASSERT_TRUE(ev.ok());
    story.push_back((ev->lead_id.empty() ? ev->account_id : ev->lead_id) + " " + ev->from_tier + ">" + ev->to_tier);
  }
  EXPECT_THAT(story, ElementsAre("l1 cold>warm", "l1 warm>hot"))
      << "state survived the restart, the duplicate e1 was not counted again";
}

TEST_F(ServiceTest, HttpServesViewsReadinessAndValidMetrics) {
  auto http = server::HttpServer::Start("127.0.0.1:0", service_.get());
  ASSERT_TRUE(http.ok()) << http.status().message();
  httplib::Client client("127.0.0.1", (*http)->port());
  auto ready = client.Get("/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 503) << "no partitions yet";

  TestProducer producer(broker_->bootstrap());
  v1::Input account;
  account.mutable_account()->set_account_id("a1");
  account.mutable_account()->set_industry("software");
  account.mutable_account()->set_updated_at_ms(1);
  producer.Send("profiles", "a1", account.SerializeAsString());
  producer.Flush();
  RunUntilConsumed(1);
  producer.Send("engagement-events", "a1", EventJson("e1", "l1", "a1", "demo", kT0));
  producer.Send("engagement-events", "a1", EventJson("e2", "l1", "a1", "demo", kT0));
  producer.Send("engagement-events", "a1", "garbage");
  producer.Flush();
  RunUntilConsumed(4);

  auto lead = client.Get("/v1/leads/l1");
  ASSERT_TRUE(lead);
  EXPECT_EQ(lead->status, 200);
  EXPECT_THAT(lead->body, HasSubstr(R"("tier":"hot")"));
  EXPECT_THAT(lead->body, HasSubstr(R"("account_id":"a1")"));
  EXPECT_THAT(lead->body, HasSubstr(R"("factors":[{"name":"demo","points":80)"));
  EXPECT_THAT(lead->body, HasSubstr(R"("to_tier":"hot")"));
  auto acct = client.Get("/v1/accounts/a1");
  ASSERT_TRUE(acct);
  EXPECT_EQ(acct->status, 200);
  EXPECT_THAT(acct->body, HasSubstr(R"("engaged_contacts":1)"));
  EXPECT_EQ(client.Get("/v1/leads/nobody")->status, 404);
  EXPECT_EQ(client.Get("/readyz")->status, 200);
  EXPECT_EQ(client.Get("/healthz")->status, 200);

  auto metrics = client.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_THAT(metrics->body, HasSubstr(R"(leadscore_records_consumed_total{topic="engagement-events"} 3)"));
  EXPECT_THAT(metrics->body, HasSubstr(R"(leadscore_dead_letters_total{reason="unparseable"} 1)"));
  EXPECT_THAT(metrics->body, HasSubstr(R"(leadscore_routing_events_total{entity="lead",direction="up",tier="hot"} 1)"));
  EXPECT_THAT(metrics->body, HasSubstr("leadscore_state_bytes"));
  const std::string path = ::testing::TempDir() + "/leadscore-service-metrics.txt";
  std::ofstream(path) << metrics->body;
  EXPECT_EQ(std::system(("promtool check metrics < " + path + " >/dev/null 2>&1").c_str()), 0) << metrics->body;
}

}  // namespace
}  // namespace leadscore::testing
