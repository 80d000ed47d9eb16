// The HTTP server over a Backend it does not know the origin of: the routes, statuses
// and JSON it serves, through a real socket. The backend here is a stand-in for the
// service (the interface is the server's whole view of it).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include "server/backend.h"
#include "server/http_server.h"

namespace leadscore::server {
namespace {

using ::testing::HasSubstr;

class StandInBackend : public Backend {
 public:
  std::optional<engine::EntityView> ViewLead(const std::string& id) const override {
    if (id != "ana") return std::nullopt;
    engine::EntityView v;
    v.id = "ana";
    v.account_id = "acme";
    v.tier = "high";
    v.score = 71.5;
    return v;
  }
  std::optional<engine::EntityView> ViewAccount(const std::string&) const override { return std::nullopt; }
  std::string MetricsText() const override { return "# TYPE up gauge\nup 1\n"; }
  bool Ready() const override { return ready; }
  bool Healthy() const override { return healthy; }
  std::string model_version() const override { return "spec-example@0123456789ab"; }
  bool ready = false, healthy = true;
};

TEST(HttpBackendTest, ServesViewsProbesAndMetricsFromTheBackend) {
  StandInBackend backend;
  auto http = HttpServer::Start("127.0.0.1:0", &backend);
  ASSERT_TRUE(http.ok()) << http.status().message();
  httplib::Client client("127.0.0.1", (*http)->port());

  auto lead = client.Get("/v1/leads/ana");
  ASSERT_TRUE(lead);
  EXPECT_EQ(lead->status, 200);
  EXPECT_THAT(lead->body, HasSubstr(R"("lead_id":"ana","account_id":"acme")"));
  EXPECT_THAT(lead->body, HasSubstr(R"("tier":"high")"));
  EXPECT_THAT(lead->body, HasSubstr(R"("model_version":"spec-example@0123456789ab")"));
  EXPECT_EQ(client.Get("/v1/leads/bob")->status, 404);
  EXPECT_EQ(client.Get("/v1/accounts/acme")->status, 404);

  EXPECT_EQ(client.Get("/readyz")->status, 503);
  backend.ready = true;
  EXPECT_EQ(client.Get("/readyz")->status, 200);
  EXPECT_EQ(client.Get("/healthz")->status, 200);
  backend.healthy = false;
  EXPECT_EQ(client.Get("/healthz")->status, 503);
  EXPECT_EQ(client.Get("/metrics")->body, "# TYPE up gauge\nup 1\n");
}

}  // namespace
}  // namespace leadscore::server
