// Live model changes through the running service (SPEC section 3 "Changing the model",
// section 5 /v1/model): PUT /v1/model with the admin token, an invalid model refused
// with every problem and the running one kept, a dry run that answers the tier moves
// and changes nothing, and a restart with another model continuing from the state. The
// service's loop runs on the test's thread (RunOnce): waits are bounded, nothing sleeps.
//
// Model b gives the software fit rule 5 points instead of 50 and warm needs 45: l1 (a
// VP at a software account, score at most 60) falls to cold from hot or warm.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "engine/harness.h"
#include "server/http_server.h"
#include "stream/embedded_broker.h"
#include "stream/kafka_test_util.h"
#include "stream/service.h"

namespace leadscore::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kToken = "reload-token";

std::string ModelB() {
  std::string m = kTestModel;
  m.replace(m.find("version: test"), 13, "version: b");
  m.replace(m.find("min_score: 60, min_intent: 20"), 29, "min_score: 70, min_intent: 20");
  m.replace(m.find("eq: software } }, points: 50"), 28, "eq: software } }, points: 5");
  m.replace(m.find("{ name: warm, min_score: 30"), 27, "{ name: warm, min_score: 45");
  return m;
}

class ModelReloadServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto b = stream::EmbeddedBroker::Start(
        {.brokers = 1,
         .partitions = 2,
         .topics = {"engagement-events", "profiles", "sales-outcomes", "routing-events", "leadscore-dlq",
                    "reload-test-state", "reload-test-repartition"}});
    ASSERT_TRUE(b.ok()) << b.status().message();
    broker_ = std::move(*b);
    state_dir_ = ::testing::TempDir() + "/leadscore-reload-test-" +
                 ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(state_dir_);
    Start(kTestModel);
  }
  void TearDown() override {
    http_.reset();
    service_.reset();
    std::filesystem::remove_all(state_dir_);
  }
  void Start(const std::string& yaml) {
    http_.reset();
    service_.reset();
    stream::ServiceOptions o;
    o.brokers = broker_->bootstrap();
    o.group_id = "reload-test";
    o.inputs = {{"engagement-events", codec::Format::kJson}, {"profiles", codec::Format::kJson}};
    o.max_wait_ms = 20;
    o.store.dir = state_dir_;
    o.model_yaml = yaml;
    o.kafka_consumer = {{"session.timeout.ms", "6000"}, {"heartbeat.interval.ms", "500"}, {"fetch.wait.max.ms", "10"}};
    auto s = stream::Service::Start(MustLoad(yaml), o, [] { return kT0 + 10; });
    ASSERT_TRUE(s.ok()) << s.status().message();
    service_ = std::move(*s);
    auto h = server::HttpServer::Start(server::HttpOptions{.address = "127.0.0.1:0", .admin_token = kToken},
                                       service_.get());
    ASSERT_TRUE(h.ok()) << h.status().message();
    http_ = std::move(*h);
    client_ = std::make_unique<httplib::Client>("127.0.0.1", http_->port());
    client_->set_read_timeout(std::chrono::seconds(30));
  }
  // An account in software with a VP lead and a demo.
  void Story() {
    TestProducer producer(broker_->bootstrap());
    producer.Send("profiles", "a1", R"({"account":{"account_id":"a1","updated_at_ms":"1","industry":"software"}})");
    producer.Send("profiles", "a1", R"({"lead":{"lead_id":"l1","account_id":"a1","updated_at_ms":"1","seniority":"vp"}})");
    producer.Flush();
    RunUntilConsumed(2);
    producer.Send("engagement-events", "a1", EventJson("e1", "l1", "a1", "demo", kT0));
    producer.Flush();
    RunUntilConsumed(3);
  }
  void RunUntilConsumed(uint64_t consumed) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (service_->counters().consumed < consumed && std::chrono::steady_clock::now() < until) {
      ASSERT_TRUE(service_->RunOnce().ok());
    }
    ASSERT_EQ(service_->counters().consumed, consumed);
  }
  // Turns of the loop until every assigned partition runs the running model.
  void RunUntilChanged() {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while ((service_->PendingModelPartitions() > 0 || !service_->Ready()) && std::chrono::steady_clock::now() < until) {
      ASSERT_TRUE(service_->RunOnce().ok());
    }
    ASSERT_EQ(service_->PendingModelPartitions(), 0);
    ASSERT_TRUE(service_->RunOnce().ok());  // the turn that sees none pending left
  }
  httplib::Result Put(const std::string& path, const std::string& body, const std::string& token = kToken) {
    httplib::Headers headers;
    if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
    return client_->Put(path, headers, body, "application/yaml");
  }
  nlohmann::json GetModel() {
    auto res = client_->Get("/v1/model");
    EXPECT_TRUE(res);
    EXPECT_EQ(res->status, 200);
    return nlohmann::json::parse(res->body);
  }

  std::unique_ptr<stream::EmbeddedBroker> broker_;
  std::unique_ptr<stream::Service> service_;
  std::unique_ptr<server::HttpServer> http_;
  std::unique_ptr<httplib::Client> client_;
  std::string state_dir_;
};

TEST_F(ModelReloadServiceTest, AValidModelPutBecomesTheRunningOneAndEveryPartitionIsReevaluated) {
  Story();
  const std::string a = service_->model_version();
  EXPECT_EQ(GetModel()["yaml"], kTestModel) << "the text it was started with";
  auto lead_tier = [&] {
    auto lead = client_->Get("/v1/leads/l1");
    EXPECT_TRUE(lead && lead->status == 200);
    return lead ? nlohmann::json::parse(lead->body)["tier"].get<std::string>() : "";
  };
  const std::string tier_before = lead_tier();
  ASSERT_NE(tier_before, "cold");
  const auto b = MustLoad(ModelB());

  auto res = Put("/v1/model", ModelB());
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 202) << res->body;
  const auto answer = nlohmann::json::parse(res->body);
  EXPECT_EQ(answer["model_version"], b->version);
  EXPECT_EQ(answer["previous_version"], a);
  EXPECT_EQ(answer["changed"], true);

  auto model = GetModel();
  EXPECT_EQ(model["model_version"], b->version);
  EXPECT_EQ(model["yaml"], ModelB());
  auto yaml = client_->Get("/v1/model?format=yaml");
  ASSERT_TRUE(yaml);
  EXPECT_EQ(yaml->body, ModelB());
  EXPECT_EQ(yaml->get_header_value("X-Model-Version"), b->version);

  RunUntilChanged();
  EXPECT_EQ(GetModel()["reevaluating_partitions"], 0);
  const std::string metrics = service_->MetricsText();
  EXPECT_THAT(metrics, HasSubstr("leadscore_model_info{model_version=\"" + b->version + "\"} 1"));
  EXPECT_THAT(metrics, Not(HasSubstr("leadscore_model_info{model_version=\"" + a + "\"}")));
  EXPECT_THAT(metrics, HasSubstr("leadscore_model_reevaluated_entities_total 2\n")) << "a1 and l1";
  EXPECT_THAT(metrics, HasSubstr("leadscore_model_reevaluation_pending_partitions 0\n"));
  // b's lower fit moves l1 down (a routing event with reason "model <a> -> <b>: ...":
  // model_change_test.cc pins those), and the view shows it.
  EXPECT_NE(lead_tier(), tier_before);
  auto lead = client_->Get("/v1/leads/l1");
  ASSERT_TRUE(lead);
  EXPECT_EQ(lead->status, 200);
  EXPECT_EQ(nlohmann::json::parse(lead->body)["model_version"], b->version);

  // The same model again changes nothing.
  auto same = Put("/v1/model", ModelB());
  ASSERT_TRUE(same);
  EXPECT_EQ(same->status, 200) << same->body;
  EXPECT_EQ(nlohmann::json::parse(same->body)["changed"], false);

  // The service goes on consuming under b.
  TestProducer producer(broker_->bootstrap());
  producer.Send("engagement-events", "a1", EventJson("e2", "l1", "a1", "view", kT0 + 1));
  producer.Flush();
  RunUntilConsumed(4);
  EXPECT_TRUE(service_->Healthy());
}

TEST_F(ModelReloadServiceTest, AnInvalidModelIsRefusedWithEveryProblemAndTheRunningOneStays) {
  Story();
  const std::string a = service_->model_version();
  std::string broken = kTestModel;
  broken.replace(broken.find("cap: 30"), 7, "cap: -30");
  broken.replace(broken.find("half_life: 10d"), 14, "half_life: -10d");
  auto res = Put("/v1/model", broken);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 422) << res->body;
  const auto answer = nlohmann::json::parse(res->body);
  ASSERT_EQ(answer["problems"].size(), 2u) << res->body;
  for (const auto& p : answer["problems"]) {
    EXPECT_GT(p["line"].get<int>(), 0) << p;
    EXPECT_FALSE(p["message"].get<std::string>().empty());
  }
  auto garbage = Put("/v1/model", "intent: [");
  ASSERT_TRUE(garbage);
  EXPECT_EQ(garbage->status, 422) << garbage->body;
  EXPECT_EQ(GetModel()["model_version"], a);
  ASSERT_TRUE(service_->RunOnce().ok());
  EXPECT_EQ(service_->PendingModelPartitions(), 0);
  EXPECT_THAT(service_->MetricsText(), HasSubstr("leadscore_model_info{model_version=\"" + a + "\"} 1"));
}

TEST_F(ModelReloadServiceTest, PuttingAModelNeedsTheAdminTokenReadingItDoesNot) {
  const std::string a = service_->model_version();
  auto none = Put("/v1/model", ModelB(), "");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 401);
  auto wrong = Put("/v1/model", ModelB(), "not-the-token");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401);
  auto dry = Put("/v1/model?dry_run=true", ModelB(), "");
  ASSERT_TRUE(dry);
  EXPECT_EQ(dry->status, 401) << "a dry run reads the whole state: admin too";
  EXPECT_EQ(GetModel()["model_version"], a) << "GET needs no token";
}

TEST_F(ModelReloadServiceTest, ADryRunAnswersTheTierMatrixAndChangesNothing) {
  Story();
  const std::string a = service_->model_version();
  const auto b = MustLoad(ModelB());
  auto tier = [&] {
    auto lead = client_->Get("/v1/leads/l1");
    EXPECT_TRUE(lead && lead->status == 200);
    return lead ? nlohmann::json::parse(lead->body)["tier"].get<std::string>() : "";
  };
  const std::string tier_before = tier();
  auto res = Put("/v1/model?dry_run=true", ModelB());
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  const auto moves = nlohmann::json::parse(res->body);
  EXPECT_EQ(moves["dry_run"], true);
  EXPECT_EQ(moves["from_version"], a);
  EXPECT_EQ(moves["to_version"], b->version);
  EXPECT_EQ(moves["accounts"], 1);
  EXPECT_EQ(moves["leads"], 1);
  uint64_t counted = 0;
  for (const auto& cell : moves["matrix"]) counted += cell["count"].get<uint64_t>();
  EXPECT_EQ(counted, 2u);
  EXPECT_EQ(moves["moved"], 1) << "l1 falls; a1 stays in C";
  for (const auto& cell : moves["matrix"]) {
    if (cell["entity"] == "lead") {
      EXPECT_EQ(cell["from_tier"], tier_before);
      EXPECT_NE(cell["to_tier"], tier_before);
    }
  }

  EXPECT_EQ(GetModel()["model_version"], a);
  ASSERT_TRUE(service_->RunOnce().ok());
  EXPECT_EQ(service_->PendingModelPartitions(), 0);
  EXPECT_THAT(service_->MetricsText(), HasSubstr("leadscore_model_reevaluated_entities_total 0\n"));
  EXPECT_EQ(tier(), tier_before);
}

TEST_F(ModelReloadServiceTest, ARestartWithAnotherModelContinuesFromTheState) {
  Story();
  Start(ModelB());
  RunUntilChanged();
  const auto b = MustLoad(ModelB());
  EXPECT_EQ(service_->model_version(), b->version);
  EXPECT_TRUE(service_->Healthy());
  EXPECT_TRUE(service_->Ready()) << "not refused: the state was re-evaluated";
  EXPECT_THAT(service_->MetricsText(), HasSubstr("leadscore_model_reevaluated_entities_total 2\n"));
  auto lead = client_->Get("/v1/leads/l1");
  ASSERT_TRUE(lead);
  EXPECT_EQ(lead->status, 200) << "the state from before the restart";
  // Nothing is read again: the offsets are the state's.
  TestProducer producer(broker_->bootstrap());
  producer.Send("engagement-events", "a1", EventJson("e2", "l1", "a1", "view", kT0 + 1));
  producer.Flush();
  RunUntilConsumed(1);
}

// A kill in the middle of a change: the hook fails the pass after its first page, as a
// crash after that write would; the service stops consuming (nothing lost). A restart
// with the new model continues the pass from its marker instead of starting over.
TEST_F(ModelReloadServiceTest, AChangeKilledMidPassContinuesOnRestartWithTheNewModel) {
  Story();
  const auto b = MustLoad(ModelB());
  service_->set_reevaluation_hook([](int32_t, uint64_t) { return Status::IoError("killed after a page"); });
  ASSERT_EQ(Put("/v1/model", ModelB())->status, 202);
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (service_->Healthy() && std::chrono::steady_clock::now() < until) (void)service_->RunOnce();
  ASSERT_FALSE(service_->Healthy()) << "the pass failed: processing stops";
  EXPECT_THAT(service_->RunOnce().message(), HasSubstr("killed after a page"));

  Start(ModelB());
  RunUntilChanged();
  EXPECT_TRUE(service_->Healthy());
  EXPECT_EQ(service_->model_version(), b->version);
  // The first run's page held a1 and l1: done, and not done again.
  EXPECT_THAT(service_->MetricsText(), HasSubstr("leadscore_model_reevaluated_entities_total 0\n"));
  auto lead = client_->Get("/v1/leads/l1");
  ASSERT_TRUE(lead);
  EXPECT_EQ(lead->status, 200);
}

}  // namespace
}  // namespace leadscore::testing
