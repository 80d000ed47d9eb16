// Each limit of HttpOptions on its own, with small limits and exact requests: what the
// client gets back (431, 413, 400, Connection: close, a closed connection) and that the
// connection is let go. The server closes; the test only waits to read it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "server/http_server.h"
#include "server/raw_client.h"

namespace leadscore::server {
namespace {

using test_client::Get;
using test_client::RawClient;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::StartsWith;

Router Echo() {
  Router r;
  r.Exact("GET", "/ok", Access::kPublic, [](const Request&, const std::string&) {
    return Response{.status = 200, .content_type = "text/plain", .body = "ok\n", .headers = {}};
  });
  r.Exact("POST", "/echo", Access::kPublic, [](const Request& req, const std::string&) {
    return Response{.status = 200, .content_type = "text/plain", .body = req.body, .headers = {}};
  });
  r.Prefix("GET", "/id/", Access::kPublic, [](const Request& req, const std::string& id) {
    return Response{.status = 200, .content_type = "text/plain", .body = id + "|" + req.query, .headers = {}};
  });
  return r;
}

std::unique_ptr<HttpServer> Serve(HttpOptions o) {
  o.address = "127.0.0.1:0";
  auto s = HttpServer::Start(o, Echo());
  EXPECT_TRUE(s.ok()) << s.status().message();
  return s.ok() ? std::move(*s) : nullptr;
}

// The whole exchange on one connection: `request` sent, everything until close read.
std::string Exchange(int port, const std::string& request) {
  RawClient c(port);
  c.Send(request);
  return c.ReadToEnd();
}

TEST(HttpLimitsTest, TooManyHeaderFieldsAre431) {
  HttpOptions o;
  o.max_header_count = 10;
  auto s = Serve(o);
  std::string fields;
  for (int i = 0; i < 9; ++i) fields += "X-" + std::to_string(i) + ": v\r\n";
  EXPECT_THAT(Exchange(s->port(), "GET /ok HTTP/1.1\r\nConnection: close\r\n" + fields + "\r\n"), StartsWith("HTTP/1.1 200"))
      << "10 fields";
  EXPECT_THAT(Exchange(s->port(), "GET /ok HTTP/1.1\r\nConnection: close\r\nX-9: v\r\n" + fields + "\r\n"),
              StartsWith("HTTP/1.1 431"))
      << "11 fields";
}

TEST(HttpLimitsTest, AHeaderOverTheByteLimitIs431) {
  HttpOptions o;
  o.max_header_bytes = 2048;
  auto s = Serve(o);
  EXPECT_THAT(Exchange(s->port(), "GET /ok HTTP/1.1\r\nConnection: close\r\nX-Big: " + std::string(1500, 'v') + "\r\n\r\n"),
              StartsWith("HTTP/1.1 200"));
  EXPECT_THAT(Exchange(s->port(), "GET /ok HTTP/1.1\r\nConnection: close\r\nX-Big: " + std::string(2100, 'v') + "\r\n\r\n"),
              StartsWith("HTTP/1.1 431"));
}

TEST(HttpLimitsTest, ABodyOverTheLimitIs413WhetherAnnouncedOrChunked) {
  HttpOptions o;
  o.max_body_bytes = 1000;
  auto s = Serve(o);
  const std::string fits(1000, 'b'), over(1001, 'b');
  const std::string head = "POST /echo HTTP/1.1\r\nConnection: close\r\n";
  const std::string ok = Exchange(s->port(), head + "Content-Length: 1000\r\n\r\n" + fits);
  EXPECT_THAT(ok, StartsWith("HTTP/1.1 200"));
  EXPECT_THAT(ok, HasSubstr("\r\n\r\n" + fits));
  EXPECT_THAT(Exchange(s->port(), head + "Content-Length: 1001\r\n\r\n" + over), StartsWith("HTTP/1.1 413"));
  EXPECT_THAT(Exchange(s->port(), head + "Transfer-Encoding: chunked\r\n\r\n3e8\r\n" + fits + "\r\n1\r\nb\r\n0\r\n\r\n"),
              StartsWith("HTTP/1.1 413"));
}

TEST(HttpLimitsTest, AClientExpectingContinueGetsItThenItsAnswer) {
  HttpOptions o;
  o.max_body_bytes = 1000;
  auto s = Serve(o);
  RawClient c(s->port());
  ASSERT_TRUE(c.Send("POST /echo HTTP/1.1\r\nConnection: close\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n"));
  const std::string go = "HTTP/1.1 100 Continue\r\n\r\n";
  ASSERT_EQ(c.Read(go.size()), go) << "before the body is sent";
  ASSERT_TRUE(c.Send("body"));
  const std::string res = c.ReadToEnd();
  EXPECT_THAT(res, StartsWith("HTTP/1.1 200"));
  EXPECT_THAT(res, HasSubstr("\r\n\r\nbody"));
  // Too large by its Content-Length: refused without asking for the body.
  EXPECT_THAT(Exchange(s->port(), "POST /echo HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 1001\r\n\r\n"),
              StartsWith("HTTP/1.1 413"));
}

TEST(HttpLimitsTest, WhatIsNotHttpIs400) {
  auto s = Serve({});
  EXPECT_THAT(Exchange(s->port(), "HELLO\r\n\r\n"), StartsWith("HTTP/1.1 400"));
}

TEST(HttpLimitsTest, AnIdleConnectionIsClosed) {
  HttpOptions o;
  o.idle_timeout_ms = 50;
  auto s = Serve(o);
  RawClient silent(s->port());
  ASSERT_TRUE(silent.connected());
  EXPECT_THAT(silent.ReadToEnd(), IsEmpty()) << "closed by the server, nothing said";
  // Between keep-alive requests too.
  RawClient kept(s->port());
  ASSERT_TRUE(kept.Send("GET /ok HTTP/1.1\r\nHost: t\r\n\r\n"));
  const std::string res = kept.ReadToEnd();
  EXPECT_THAT(res, StartsWith("HTTP/1.1 200"));
  EXPECT_THAT(res, Not(HasSubstr("Connection: close")));
}

TEST(HttpLimitsTest, ARequestBegunAndNotFinishedIsCutOff) {
  HttpOptions o;
  o.read_timeout_ms = 50;
  auto s = Serve(o);
  RawClient slow(s->port());
  ASSERT_TRUE(slow.Send("GET /ok HTTP/1.1\r\nHost: t\r\nX-Slow: "));
  EXPECT_THAT(slow.ReadToEnd(), IsEmpty());
}

TEST(HttpLimitsTest, KeepAliveEndsAfterTheRequestLimit) {
  HttpOptions o;
  o.max_requests_per_connection = 2;
  auto s = Serve(o);
  // Two pipelined keep-alive requests: the second answer says close, and the server
  // closes (the read ends).
  const std::string get = "GET /ok HTTP/1.1\r\nHost: t\r\n\r\n";
  const std::string res = Exchange(s->port(), get + get);
  const size_t second = res.find("HTTP/1.1 200", 1);
  ASSERT_NE(second, std::string::npos) << res;
  EXPECT_THAT(res.substr(0, second), Not(HasSubstr("Connection: close")));
  EXPECT_THAT(res.substr(second), HasSubstr("Connection: close"));
}

TEST(HttpLimitsTest, WhenFullTheConnectionIdleLongestMakesRoom) {
  HttpOptions o;
  o.max_connections = 2;
  auto s = Serve(o);
  RawClient a(s->port()), b(s->port());  // accepted in this order, both silent
  ASSERT_TRUE(a.connected() && b.connected());
  EXPECT_THAT(Get(s->port(), "/ok"), StartsWith("HTTP/1.1 200")) << "a third is served";
  EXPECT_THAT(a.ReadToEnd(), IsEmpty()) << "the first, idle longest, was closed";
  ASSERT_TRUE(b.Send("GET /ok HTTP/1.1\r\nConnection: close\r\n\r\n"));
  EXPECT_THAT(b.ReadToEnd(), StartsWith("HTTP/1.1 200")) << "the second kept";
}

TEST(HttpLimitsTest, WhenFullOfRequestsUnderWayANewConnectionIsClosedAtOnce) {
  HttpOptions o;
  o.max_connections = 2;
  auto s = Serve(o);
  // Two connections in the middle of a request, which the server says it is reading
  // (100 Continue): neither is idle.
  RawClient a(s->port()), b(s->port());
  for (RawClient* c : {&a, &b}) {
    ASSERT_TRUE(c->Send("POST /echo HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n"));
    ASSERT_EQ(c->Read(12), "HTTP/1.1 100");
  }
  EXPECT_THAT(Get(s->port(), "/ok"), IsEmpty()) << "a third is closed, not left waiting";
}

TEST(HttpLimitsTest, ProbesGetInPastManyMoreIdleConnectionsThanTheLimit) {
  HttpOptions o;
  o.max_connections = 8;
  auto s = Serve(o);
  std::vector<std::unique_ptr<RawClient>> idle;
  for (int i = 0; i < 64; ++i) idle.push_back(std::make_unique<RawClient>(s->port()));
  for (int i = 0; i < 10; ++i) EXPECT_THAT(Get(s->port(), "/ok"), StartsWith("HTTP/1.1 200")) << "probe " << i;
}

TEST(HttpLimitsTest, PathsArePercentDecodedQueriesKeptHeadHasNoBodyAndWrongMethodsAre405) {
  auto s = Serve({});
  const std::string id = Get(s->port(), "/id/a%2Fb%20c?x=%2F");
  EXPECT_THAT(id, StartsWith("HTTP/1.1 200"));
  EXPECT_THAT(id, HasSubstr("\r\n\r\na/b c|x=%2F"));
  EXPECT_THAT(Get(s->port(), "/id/"), StartsWith("HTTP/1.1 404")) << "a prefix route needs an id";
  EXPECT_THAT(Get(s->port(), "/nope"), StartsWith("HTTP/1.1 404"));
  const std::string head = Exchange(s->port(), "HEAD /ok HTTP/1.1\r\nConnection: close\r\n\r\n");
  EXPECT_THAT(head, StartsWith("HTTP/1.1 200"));
  EXPECT_THAT(head, HasSubstr("Content-Length: 3\r\n"));
  EXPECT_EQ(head.substr(head.find("\r\n\r\n")), "\r\n\r\n") << "no body";
  const std::string post = Exchange(s->port(), "POST /ok HTTP/1.1\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
  EXPECT_THAT(post, StartsWith("HTTP/1.1 405"));
  EXPECT_THAT(post, HasSubstr("Allow: GET"));
}

}  // namespace
}  // namespace leadscore::server
