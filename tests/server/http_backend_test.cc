// The HTTP server over a Backend it does not know the origin of: the routes, statuses
// and JSON it serves, through a real socket. The backend here is a stand-in for the
// service (the interface is the server's whole view of it).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>

#include "codec/codec.h"
#include "server/api_routes.h"
#include "server/backend.h"
#include "server/http_server.h"

namespace leadscore::server {
namespace {

using ::testing::HasSubstr;

class StandInBackend : public Backend {
 public:
  std::optional<engine::EntityView> ViewLead(const std::string& id) const override {
    if (id == "odd") return odd;
    if (id == "a/b c") return odd;
    if (id != "ana") return std::nullopt;
    engine::EntityView v;
    v.id = "ana";
    v.account_id = "acme";
    v.tier = "high";
    v.score = 71.5;
    return v;
  }
  std::optional<engine::EntityView> ViewAccount(const std::string& id) const override {
    if (id != "acme") return std::nullopt;
    return account;
  }
  std::string MetricsText() const override { return "# TYPE up gauge\nup 1\n"; }
  bool Ready() const override { return ready; }
  bool Healthy() const override { return healthy; }
  std::string model_version() const override { return "spec-example@0123456789ab"; }
  bool ready = true, healthy = true;
  std::optional<engine::EntityView> odd, account;
};

TEST(HttpBackendTest, ServesViewsProbesAndMetricsFromTheBackend) {
  StandInBackend backend;
  auto http = HttpServer::Start("127.0.0.1:0", &backend);
  ASSERT_TRUE(http.ok()) << http.status().message();
  httplib::Client client("127.0.0.1", (*http)->port());

  backend.ready = false;
  EXPECT_EQ(client.Get("/v1/leads/ana")->status, 503) << "not ready: a 404 would be a guess";
  EXPECT_EQ(client.Get("/readyz")->status, 503);
  backend.ready = true;
  auto lead = client.Get("/v1/leads/ana");
  ASSERT_TRUE(lead);
  EXPECT_EQ(lead->status, 200);
  EXPECT_THAT(lead->body, HasSubstr(R"("lead_id":"ana","account_id":"acme")"));
  EXPECT_THAT(lead->body, HasSubstr(R"("tier":"high")"));
  EXPECT_THAT(lead->body, HasSubstr(R"("model_version":"spec-example@0123456789ab")"));
  EXPECT_EQ(client.Get("/v1/leads/bob")->status, 404);
  EXPECT_EQ(client.Get("/v1/leads/bob")->body, R"({"error":"no such lead"})");
  EXPECT_EQ(client.Get("/v1/accounts/acme")->status, 404);

  EXPECT_EQ(client.Get("/readyz")->status, 200);
  EXPECT_EQ(client.Get("/healthz")->status, 200);
  backend.healthy = false;
  EXPECT_EQ(client.Get("/healthz")->status, 503);
  EXPECT_EQ(client.Get("/metrics")->body, "# TYPE up gauge\nup 1\n");
}

TEST(HttpBackendTest, ViewsAreTheProtobufJsonMappingLikeTheTopicIntsAsStringsDoublesExact) {
  StandInBackend backend;
  engine::EntityView v;
  v.id = "o\"dd\\ \n\x01 lead";  // what a record may carry: quotes, backslash, control bytes
  v.account_id = "acme";
  v.fit = 0.1 + 0.2;  // 0.30000000000000004: a %.10g writer said 0.3
  v.intent = 80;
  v.score = 1.0 / 3;
  v.grade = "C";
  v.tier = "medium";
  v.factors = {{.name = "pricing_page_view", .points = 37.123456789012344, .count = 3, .last_at_ms = 1795428000123}};
  v.recent_changes = {{.from_tier = "low", .to_tier = "medium", .at_ms = 1795428000123, .routing_id = "r1"}};
  v.as_of_ms = 1795428000999;
  backend.odd = v;
  engine::EntityView a;
  a.id = "acme";
  a.committee_roles = {"champion", "economic_buyer"};
  a.coverage = 5.0 / 9 * 100;
  a.engaged_contacts = 2;
  a.lead_count = 3;
  backend.account = a;
  auto http = HttpServer::Start("127.0.0.1:0", &backend);
  ASSERT_TRUE(http.ok()) << http.status().message();
  httplib::Client client("127.0.0.1", (*http)->port());

  auto res = client.Get("/v1/leads/odd");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200);
  EXPECT_EQ(client.Get("/v1/leads/a%2Fb%20c")->status, 200) << "a percent-encoded id with a '/'";
  const auto j = nlohmann::json::parse(res->body);  // escaping is right, or this throws
  EXPECT_EQ(j["lead_id"], v.id);
  EXPECT_EQ(j["fit"].get<double>(), 0.1 + 0.2) << "doubles at full precision";
  EXPECT_EQ(j["score"].get<double>(), 1.0 / 3);
  EXPECT_EQ(j["factors"][0]["points"].get<double>(), 37.123456789012344);
  EXPECT_EQ(j["factors"][0]["count"], 3) << "int32 is a number";
  EXPECT_EQ(j["factors"][0]["last_at_ms"], "1795428000123") << "int64 is a string, as protobuf's JSON mapping";
  EXPECT_EQ(j["recent_changes"][0]["at_ms"], "1795428000123");
  EXPECT_EQ(j["as_of_ms"], "1795428000999");
  EXPECT_THAT(res->body, HasSubstr(R"("intent":80,)")) << "a whole double prints as protobuf prints it";
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");

  // The same numbers as the routing event on the topic: equal doubles once read (the
  // text may differ in a last digit: protobuf writes 17 significant digits where 15 do
  // not read back, this the shortest text that does).
  engine::RoutingEvent ev;
  ev.fit = v.fit;
  ev.intent = v.intent;
  ev.score = v.score;
  ev.occurred_at_ms = v.as_of_ms;
  const std::string topic = codec::ToJson(ev);
  const auto tj = nlohmann::json::parse(topic);
  for (const char* field : {"fit", "intent", "score"}) {
    EXPECT_EQ(j[field].get<double>(), tj[field].get<double>()) << field << " in " << res->body << " and " << topic;
  }
  EXPECT_THAT(topic, HasSubstr(R"("occurred_at_ms":"1795428000999")"));

  auto acct = client.Get("/v1/accounts/acme");
  ASSERT_TRUE(acct);
  const auto aj = nlohmann::json::parse(acct->body);
  EXPECT_EQ(aj["committee"]["roles"], nlohmann::json({"champion", "economic_buyer"}));
  EXPECT_EQ(aj["committee"]["coverage"].get<double>(), 5.0 / 9 * 100);
  EXPECT_EQ(aj["committee"]["engaged_contacts"], 2);
  EXPECT_EQ(aj["leads"], 3);
  EXPECT_FALSE(aj.contains("lead_id"));
}

// SPEC section 5: changing endpoints need the admin token when one is configured. There
// is none yet in the API, so the test adds one to the API's router.
TEST(HttpBackendTest, AdminRoutesNeedTheBearerTokenWhenOneIsConfigured) {
  StandInBackend backend;
  auto router = [&backend] {
    Router r = ApiRouter(&backend);
    // A stand-in admin route (PUT /v1/model itself is tests/stream/model_reload_service_test.cc's).
    r.Exact("PUT", "/v1/stand-in", Access::kAdmin, [](const Request& req, const std::string&) {
      return Response{.status = 200, .content_type = "text/plain", .body = "applied " + req.body, .headers = {}};
    });
    return r;
  };
  auto http = HttpServer::Start(HttpOptions{.address = "127.0.0.1:0", .admin_token = "s3cret-token"}, router());
  ASSERT_TRUE(http.ok()) << http.status().message();
  httplib::Client client("127.0.0.1", (*http)->port());

  auto none = client.Put("/v1/stand-in", "tiers: []", "application/yaml");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 401);
  EXPECT_EQ(none->get_header_value("WWW-Authenticate"), "Bearer realm=\"leadscore\"");
  for (const char* wrong : {"Bearer s3cret-toke", "Bearer s3cret-token2", "Bearer ", "Basic s3cret-token", "s3cret-token"}) {
    auto res = client.Put("/v1/stand-in", {{"Authorization", wrong}}, "tiers: []", "application/yaml");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 401) << wrong;
  }
  for (const char* right : {"Bearer s3cret-token", "bearer s3cret-token"}) {
    auto res = client.Put("/v1/stand-in", {{"Authorization", right}}, "tiers: []", "application/yaml");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200) << right;
    EXPECT_EQ(res->body, "applied tiers: []");
  }
  EXPECT_EQ(client.Get("/v1/leads/ana")->status, 200) << "reading needs no token";
  EXPECT_EQ(client.Get("/healthz")->status, 200);

  // Without a token configured (loopback only), admin routes are open.
  auto tokenless = HttpServer::Start(HttpOptions{.address = "127.0.0.1:0"}, router());
  ASSERT_TRUE(tokenless.ok()) << tokenless.status().message();
  httplib::Client local("127.0.0.1", (*tokenless)->port());
  EXPECT_EQ(local.Put("/v1/stand-in", "x", "application/yaml")->status, 200);
}

TEST(HttpBackendTest, ANonLoopbackAddressIsRefusedWithoutAnAdminToken) {
  StandInBackend backend;
  auto refused = HttpServer::Start("0.0.0.0:0", &backend);
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.status().message(), HasSubstr("can be reached from other machines"));
  auto with_token = HttpServer::Start(HttpOptions{.address = "0.0.0.0:0", .admin_token = "t"}, &backend);
  EXPECT_TRUE(with_token.ok()) << with_token.status().message();
}

TEST(HttpBackendTest, TokensCompareWholeAndInConstantTime) {
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "ab"));
  EXPECT_FALSE(ConstantTimeEquals("ab", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", ""));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_FALSE(ConstantTimeEquals("abcabc", "abc")) << "not a repetition of the token";
}

// A backend that keeps one routing event, "r/1 x", answered once; "broken" is a state
// that cannot be read.
class RoutingBackend : public StandInBackend {
 public:
  Result<std::optional<codec::RoutingSnapshot>> ViewRouting(const std::string& id) const override {
    if (id == "broken") return Status::IoError("state unreadable");
    if (id != "r/1 x") return std::optional<codec::RoutingSnapshot>();
    codec::RoutingSnapshot s;
    s.event.routing_id = id;
    s.event.lead_id = "ana";
    s.event.to_tier = "high";
    s.event.occurred_at_ms = 1790000000000;
    s.outcomes.push_back({.routing_id = "", .lead_id = "ana", .account_id = "acme",
                          .kind = codec::WireOutcomeKind::kClosedWon, .reason = "", .amount = 1200.5,
                          .occurred_at_ms = 1790000000001});
    return std::optional<codec::RoutingSnapshot>(std::move(s));
  }
  Result<std::string> CalibrationReport(ReportFormat format) const override {
    return std::string(format == ReportFormat::kHtml ? "<html>page</html>" : R"({"report":true})");
  }
};

TEST(HttpBackendTest, RoutingsAreServedByDecodedIdWithTheirOutcomesAndTheReportInEitherFormat) {
  RoutingBackend backend;
  auto http = HttpServer::Start("127.0.0.1:0", &backend);
  ASSERT_TRUE(http.ok()) << http.status().message();
  httplib::Client client("127.0.0.1", (*http)->port());
  auto r = client.Get("/v1/routings/r%2F1%20x");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  const auto j = nlohmann::json::parse(r->body);
  EXPECT_EQ(j["routing_event"]["routing_id"], "r/1 x");
  EXPECT_EQ(j["routing_event"]["occurred_at_ms"], "1790000000000") << "the topic's JSON: int64 as a string";
  EXPECT_EQ(j["routing_event"]["direction"], "UP") << "every field printed, as on the topic";
  ASSERT_EQ(j["outcomes"].size(), 1u);
  EXPECT_EQ(j["outcomes"][0]["kind"], "CLOSED_WON");
  EXPECT_EQ(j["outcomes"][0]["amount"], 1200.5);
  EXPECT_EQ(j["outcomes"][0]["routing_id"], "");
  EXPECT_EQ(client.Get("/v1/routings/r1")->status, 404);
  auto broken = client.Get("/v1/routings/broken");
  ASSERT_TRUE(broken);
  EXPECT_EQ(broken->status, 500);
  EXPECT_THAT(broken->body, HasSubstr("state unreadable"));
  backend.ready = false;
  EXPECT_EQ(client.Get("/v1/routings/r%2F1%20x")->status, 503);
  EXPECT_EQ(client.Get("/v1/report")->status, 503);
  backend.ready = true;

  auto json = client.Get("/v1/report");
  ASSERT_TRUE(json);
  EXPECT_EQ(json->status, 200);
  EXPECT_EQ(json->get_header_value("Content-Type"), "application/json");
  EXPECT_EQ(json->body, R"({"report":true})");
  auto html = client.Get("/v1/report?x=1&format=html");
  ASSERT_TRUE(html);
  EXPECT_EQ(html->status, 200);
  EXPECT_THAT(html->get_header_value("Content-Type"), HasSubstr("text/html"));
  EXPECT_EQ(html->body, "<html>page</html>");

  StandInBackend keeps_none;  // the interface's defaults: no routing event, no report
  auto plain = HttpServer::Start("127.0.0.1:0", &keeps_none);
  ASSERT_TRUE(plain.ok());
  httplib::Client plain_client("127.0.0.1", (*plain)->port());
  EXPECT_EQ(plain_client.Get("/v1/routings/r1")->status, 404);
  EXPECT_EQ(plain_client.Get("/v1/report")->status, 500);
}

}  // namespace
}  // namespace leadscore::server
