// The HTTP server's life and its address: what is taken, what is refused and why, and
// that a port is never shared between two servers. No Service is needed: nothing here
// calls a handler that reads one.
#include "server/http_server.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace leadscore::server {
namespace {

using ::testing::HasSubstr;

TEST(HttpAddressTest, TakesHostPortAndBracketedIpv6) {
  auto v4 = ParseHttpAddress("127.0.0.1:8080");
  ASSERT_TRUE(v4.ok()) << v4.status().message();
  EXPECT_EQ(v4->host, "127.0.0.1");
  EXPECT_EQ(v4->port, 8080);
  auto v6 = ParseHttpAddress("[::1]:8080");
  ASSERT_TRUE(v6.ok()) << v6.status().message();
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 8080);
  auto any = ParseHttpAddress("localhost:0");
  ASSERT_TRUE(any.ok()) << any.status().message();
  EXPECT_EQ(any->port, 0) << "0: any free port";
  EXPECT_TRUE(ParseHttpAddress("0.0.0.0:65535").ok());
}

TEST(HttpAddressTest, RefusesBadPortsAndHostsSayingWhy) {
  for (const char* bad : {"127.0.0.1:abc", "127.0.0.1:99999", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:",
                          "127.0.0.1:80x", "127.0.0.1: 80"}) {
    auto a = ParseHttpAddress(bad);
    ASSERT_FALSE(a.ok()) << bad;
    EXPECT_THAT(a.status().message(), HasSubstr("the port must be a number from 0 to 65535")) << bad;
  }
  EXPECT_THAT(ParseHttpAddress(":abc").status().message(), HasSubstr("port must be"));
  EXPECT_THAT(ParseHttpAddress(":8080").status().message(), HasSubstr("no host"));
  EXPECT_THAT(ParseHttpAddress("8080").status().message(), HasSubstr("expected host:port"));
  EXPECT_THAT(ParseHttpAddress("::1:8080").status().message(), HasSubstr("IPv6 address goes in brackets"));
  EXPECT_THAT(ParseHttpAddress("[nope]:8080").status().message(), HasSubstr("not an IPv6 address"));
}

TEST(HttpServerTest, StopsRightAfterStarting) {
  // Destroyed before its thread began accepting, it used to wait for ever.
  for (int i = 0; i < 50; ++i) {
    auto s = HttpServer::Start("127.0.0.1:0", nullptr);
    ASSERT_TRUE(s.ok()) << s.status().message();
  }
}

TEST(HttpServerTest, RefusesAPortAnotherServerListensOn) {
  auto first = HttpServer::Start("127.0.0.1:0", nullptr);
  ASSERT_TRUE(first.ok()) << first.status().message();
  const std::string taken = "127.0.0.1:" + std::to_string((*first)->port());
  auto second = HttpServer::Start(taken, nullptr);
  ASSERT_FALSE(second.ok()) << "a second server shares " << taken;
  EXPECT_THAT(second.status().message(), HasSubstr("address already in use"));
}

TEST(HttpServerTest, RefusesABadAddressBeforeBinding) {
  auto s = HttpServer::Start("127.0.0.1:abc", nullptr);
  ASSERT_FALSE(s.ok()) << "bound port " << (*s)->port();
  EXPECT_THAT(s.status().message(), HasSubstr("port must be"));
}

bool HasIpv6Loopback() {
  const int fd = socket(AF_INET6, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_addr = in6addr_loopback;
  const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  close(fd);
  return ok;
}

TEST(HttpServerTest, ListensOnIpv6Loopback) {
  if (!HasIpv6Loopback()) GTEST_SKIP() << "no IPv6 loopback on this machine";
  auto s = HttpServer::Start("[::1]:0", nullptr);
  ASSERT_TRUE(s.ok()) << s.status().message();
  ASSERT_GT((*s)->port(), 0);
  httplib::Client client("::1", (*s)->port());
  auto res = client.Get("/no-such-path");  // answered by the server itself, no Service involved
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 404);
}

}  // namespace
}  // namespace leadscore::server
