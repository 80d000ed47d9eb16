// The routing snapshots through the running service: records into the embedded broker
// (a real Kafka-protocol broker over TCP), sales outcomes joined as they arrive, then
// GET /v1/routings/{id}, GET /v1/report and leadscore_outcomes_total over real HTTP, and
// `leadscore report --config` over the service's state dir, running and stopped. The report's numbers
// are checked by hand on a small story and against `leadscore report --model --input`
// over the same input. Polls with deadlines; nothing sleeps.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/report_command.h"
#include "engine/harness.h"
#include "server/http_server.h"
#include "stream/embedded_broker.h"
#include "stream/kafka_test_util.h"
#include "stream/service.h"

namespace leadscore::testing {
namespace {

using nlohmann::json;

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Every byte as %XX: the view must decode the path, as the lead and account views do.
std::string PercentEncodeAll(const std::string& id) {
  std::string out;
  char buf[4];
  for (unsigned char c : id) {
    std::snprintf(buf, sizeof buf, "%%%02X", c);
    out += buf;
  }
  return out;
}

double Sample(const std::string& text, const std::string& series) {
  const size_t at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + series.size() + 2));
}

class RoutingsServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto b = stream::EmbeddedBroker::Start(
        {.brokers = 1,
         .partitions = 2,
         .topics = {"engagement-events", "profiles", "sales-outcomes", "routing-events", "leadscore-dlq",
                    "routings-test-state", "routings-test-repartition"}});
    ASSERT_TRUE(b.ok()) << b.status().message();
    broker_ = std::move(*b);
    dir_ = ::testing::TempDir() + "/leadscore-routings-service-test-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    stream::ServiceOptions o;
    o.brokers = broker_->bootstrap();
    o.group_id = "routings-test";
    o.inputs = {{"engagement-events", codec::Format::kJson},
                {"profiles", codec::Format::kJson},
                {"sales-outcomes", codec::Format::kJson}};
    o.max_wait_ms = 20;
    o.store.dir = dir_ + "/state";
    o.kafka_consumer = {{"session.timeout.ms", "6000"}, {"heartbeat.interval.ms", "500"}, {"fetch.wait.max.ms", "10"}};
    auto s = stream::Service::Start(MustLoad(kTestModel), o, [this] { return now_.load(); });
    ASSERT_TRUE(s.ok()) << s.status().message();
    service_ = std::move(*s);
  }
  void TearDown() override {
    service_.reset();
    std::filesystem::remove_all(dir_);
  }
  void RunUntilConsumed(uint64_t consumed) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (service_->counters().consumed < consumed && std::chrono::steady_clock::now() < until) {
      ASSERT_TRUE(service_->RunOnce().ok());
    }
    // Merged writes: committed by the next poll that finds nothing.
    while (service_->pending_batches() > 0 && std::chrono::steady_clock::now() < until) {
      ASSERT_TRUE(service_->RunOnce().ok());
    }
    ASSERT_EQ(service_->counters().consumed, consumed);
    ASSERT_EQ(service_->pending_batches(), 0u);
  }
  void RunUntilReady() {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!service_->Ready() && std::chrono::steady_clock::now() < until) ASSERT_TRUE(service_->RunOnce().ok());
    ASSERT_TRUE(service_->Ready());
  }
  // Sends the lines to `topic` keyed a1, keeps them as replay's input, runs them in.
  void Send(const std::string& topic, const std::vector<std::string>& lines) {
    TestProducer producer(broker_->bootstrap());
    for (const auto& l : lines) {
      producer.Send(topic, "a1", l);
      input_ += l + "\n";
    }
    producer.Flush();
    sent_ += lines.size();
    RunUntilConsumed(sent_);
  }

  std::unique_ptr<stream::EmbeddedBroker> broker_;
  std::unique_ptr<stream::Service> service_;
  std::string dir_;
  std::atomic<int64_t> now_{kT0};
  std::string input_;  // everything sent, as JSON lines of Input
  uint64_t sent_ = 0;
};

std::string Outcome(const std::string& routing_id, const std::string& lead, const std::string& kind, int64_t at,
                    const std::string& reason = "") {
  return R"({"outcome":{"routing_id":")" + routing_id + R"(","lead_id":")" + lead + R"(","account_id":"a1","kind":")" +
         kind + R"(","reason":")" + reason + R"(","occurred_at_ms":")" + std::to_string(at) + "\"}}";
}

// The story: lead l1 of a software account, a VP (fit 80), is warm at kT0 (score 40) and
// hot at kT0 + 1h (a demo: intent 40, score 60). Sales answer:
//   O1 names the hot event: ACCEPTED at kT0 + 1h
//   O2 names the warm event: REJECTED (too_early) at kT0 + 30 min
//   O3 has no routing_id: CLOSED_WON at kT0 + 2d -> by time, the latest UP: hot
//   O4 names lead l2, routed never: REJECTED at kT0 + 1h -> unmatched
// By hand: lead hot routed 1, answered 1, accepted 1, won 1 (conversion 1); lead warm
// routed 1, answered 1, rejected 1 (too_early), won 0; outcomes 4: 2 by routing_id,
// 1 by time, 1 unmatched.
TEST_F(RoutingsServiceTest, RoutingsAndTheReportOverHttpAgreeWithTheReplaysReportAndReportConfig) {
  auto http = server::HttpServer::Start("127.0.0.1:0", service_.get());
  ASSERT_TRUE(http.ok()) << http.status().message();
  httplib::Client client("127.0.0.1", (*http)->port());
  auto not_ready = client.Get("/v1/routings/anything");
  ASSERT_TRUE(not_ready);
  EXPECT_EQ(not_ready->status, 503) << "before partitions are assigned";
  auto report_not_ready = client.Get("/v1/report");
  ASSERT_TRUE(report_not_ready);
  EXPECT_EQ(report_not_ready->status, 503);
  RunUntilReady();

  Send("profiles", {R"({"account":{"account_id":"a1","industry":"software","updated_at_ms":")" + std::to_string(kT0) + "\"}}",
                    R"({"lead":{"lead_id":"l1","account_id":"a1","seniority":"vp","updated_at_ms":")" +
                        std::to_string(kT0) + "\"}}"});
  now_ = kT0 + kHour;
  Send("engagement-events", {EventJson("e1", "l1", "a1", "demo", kT0 + kHour)});
  const auto published = ReadTopic(broker_->bootstrap(), "routing-events", 2);
  ASSERT_EQ(published.size(), 2u);
  std::map<std::string, engine::RoutingEvent> by_tier;
  for (const auto& r : published) {
    auto ev = codec::RoutingEventFromBinary(r.value);
    ASSERT_TRUE(ev.ok());
    by_tier[ev->to_tier] = *ev;
  }
  ASSERT_TRUE(by_tier.count("warm") && by_tier.count("hot"));
  const engine::RoutingEvent warm = by_tier["warm"], hot = by_tier["hot"];

  now_ = kT0 + 2 * kDay;
  Send("sales-outcomes", {Outcome(hot.routing_id, "l1", "ACCEPTED", kT0 + kHour),
                          Outcome(warm.routing_id, "l1", "REJECTED", kT0 + 30 * kMin, "too_early"),
                          Outcome("", "l1", "CLOSED_WON", kT0 + 2 * kDay), Outcome("", "l2", "REJECTED", kT0 + kHour)});
  EXPECT_EQ(service_->counters().dead_letters, 0u) << "outcomes, matched or not, are never dead letters";

  // GET /v1/routings/{id}: the event as published (the output topic's JSON), with its outcomes.
  auto got = client.Get("/v1/routings/" + PercentEncodeAll(hot.routing_id));
  ASSERT_TRUE(got);
  ASSERT_EQ(got->status, 200) << got->body;
  EXPECT_EQ(got->get_header_value("Content-Type"), "application/json");
  const json view = json::parse(got->body);
  EXPECT_EQ(view["routing_event"], json::parse(codec::ToJson(hot)));
  ASSERT_EQ(view["outcomes"].size(), 2u);
  EXPECT_EQ(view["outcomes"][0]["kind"], "ACCEPTED");
  EXPECT_EQ(view["outcomes"][0]["routing_id"], hot.routing_id);
  EXPECT_EQ(view["outcomes"][1]["kind"], "CLOSED_WON");
  EXPECT_EQ(view["outcomes"][1]["routing_id"], "") << "joined by time: as it was sent";
  EXPECT_EQ(view["outcomes"][1]["occurred_at_ms"], std::to_string(kT0 + 2 * kDay)) << "int64 as a string";
  const json warm_view = json::parse(client.Get("/v1/routings/" + warm.routing_id)->body);
  ASSERT_EQ(warm_view["outcomes"].size(), 1u);
  EXPECT_EQ(warm_view["outcomes"][0]["reason"], "too_early");
  auto unknown = client.Get("/v1/routings/no-such-routing");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404);

  // leadscore_outcomes_total: entity and tier of the routing event answered.
  const std::string metrics = client.Get("/metrics")->body;
  EXPECT_EQ(Sample(metrics, R"(leadscore_outcomes_total{entity="lead",kind="ACCEPTED",tier="hot"})"), 1);
  EXPECT_EQ(Sample(metrics, R"(leadscore_outcomes_total{entity="lead",kind="CLOSED_WON",tier="hot"})"), 1);
  EXPECT_EQ(Sample(metrics, R"(leadscore_outcomes_total{entity="lead",kind="REJECTED",tier="warm"})"), 1);
  EXPECT_EQ(Sample(metrics, R"(leadscore_outcomes_total{entity="lead",kind="REJECTED",tier="unmatched"})"), 1);
  EXPECT_EQ(Sample(metrics, R"(leadscore_outcomes_total{entity="account",kind="CLOSED_LOST",tier="A"})"), 0)
      << "every kind of every tier is there from the start";

  // GET /v1/report: the numbers by hand.
  auto report = client.Get("/v1/report");
  ASSERT_TRUE(report);
  ASSERT_EQ(report->status, 200) << report->body;
  const json r = json::parse(report->body);
  EXPECT_EQ(r["routing_events"], 2);
  EXPECT_EQ(r["outcomes"], json({{"total", 4}, {"matched_by_routing_id", 2}, {"matched_by_time", 1}, {"unmatched", 1}}));
  ASSERT_EQ(r["unmatched_outcomes"].size(), 1u);
  EXPECT_EQ(r["unmatched_outcomes"][0]["lead_id"], "l2");
  ASSERT_EQ(r["versions"].size(), 1u);
  std::map<std::string, json> tiers;
  for (const auto& t : r["versions"][0]["tiers"]) tiers[t["entity"].get<std::string>() + "/" + t["tier"].get<std::string>()] = t;
  EXPECT_EQ(tiers["lead/hot"]["routed"], 1);
  EXPECT_EQ(tiers["lead/hot"]["answered"], 1);
  EXPECT_EQ(tiers["lead/hot"]["accepted"], 1);
  EXPECT_EQ(tiers["lead/hot"]["won"], 1);
  EXPECT_EQ(tiers["lead/hot"]["conversion"], 1.0);
  EXPECT_EQ(tiers["lead/warm"]["routed"], 1);
  EXPECT_EQ(tiers["lead/warm"]["rejected"], 1);
  EXPECT_EQ(tiers["lead/warm"]["rejection_reasons"], json({{"too_early", 1}}));
  EXPECT_EQ(tiers["lead/warm"]["won"], 0);
  auto page = client.Get("/v1/report?format=html");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_THAT(page->get_header_value("Content-Type"), ::testing::StartsWith("text/html"));
  EXPECT_THAT(page->body, ::testing::HasSubstr("<svg"));

  // `leadscore report --model --input` over the same input: the same report.
  const std::string model_path = dir_ + "/model.yaml", input_path = dir_ + "/input.jsonl";
  std::ofstream(model_path) << kTestModel;
  std::ofstream(input_path) << input_;
  cli::ReportFlags replay{.config_path = "", .model_path = model_path, .input = input_path,
                          .json_path = dir_ + "/replay.json", .html_path = "", .suggest_path = ""};
  ASSERT_EQ(cli::RunReport(replay), 0);
  EXPECT_EQ(json::parse(Slurp(replay.json_path)), r);

  // `leadscore report --config` over the state dir: while the service holds it open (a
  // RocksDB secondary beside the primary), and once it has stopped: the same again.
  std::ofstream(dir_ + "/leadscore.yaml") << "model: model.yaml\nstate_dir: state\n";
  cli::ReportFlags from_state{.config_path = dir_ + "/leadscore.yaml", .model_path = "", .input = "",
                              .json_path = dir_ + "/running.json", .html_path = "", .suggest_path = ""};
  ASSERT_EQ(cli::RunReport(from_state), 0);
  EXPECT_EQ(json::parse(Slurp(from_state.json_path)), r);
  http->reset();
  service_.reset();
  from_state.json_path = dir_ + "/stopped.json";
  ASSERT_EQ(cli::RunReport(from_state), 0);
  EXPECT_EQ(json::parse(Slurp(from_state.json_path)), r);
}

}  // namespace
}  // namespace leadscore::testing
