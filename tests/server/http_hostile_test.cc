// The HTTP server against clients that do not play fair: idle connections, requests
// sent a few bytes and then nothing, endless header lines, bodies too large to keep.
// Probes must still be answered, the floods refused, and the memory they leave behind
// small. (cpp-httplib, the server before Beast, failed every one of these: a thread per
// connection from a pool of 8, and every header kept.)
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "server/http_server.h"
#include "server/raw_client.h"

namespace leadscore::server {
namespace {

using test_client::Get;
using test_client::RawClient;
using test_client::VmRssKb;
using ::testing::AnyOf;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

class HealthyBackend : public Backend {
 public:
  std::optional<engine::EntityView> ViewLead(const std::string&) const override { return std::nullopt; }
  std::optional<engine::EntityView> ViewAccount(const std::string&) const override { return std::nullopt; }
  std::string MetricsText() const override { return "up 1\n"; }
  bool Ready() const override { return true; }
  bool Healthy() const override { return true; }
  std::string model_version() const override { return "test"; }
};

constexpr size_t kFloodBytes = 4 << 20;  // what each flooding client tries to send

// Header lines until the server stops taking them (or kFloodBytes): the response, if
// any came before the connection closed.
std::string FloodHeaders(int port) {
  RawClient c(port);
  if (!c.connected()) return "not connected";
  std::string lines;
  for (int i = 0; lines.size() < 64 * 1024; ++i) lines += "X-Flood-" + std::to_string(i) + ": 0123456789abcdef\r\n";
  bool open = c.Send("GET /healthz HTTP/1.1\r\nHost: test\r\n");
  for (size_t sent = 0; open && sent < kFloodBytes; sent += lines.size()) open = c.Send(lines);
  if (open) c.Send("\r\n");
  return c.ReadToEnd();
}

// A body over any sane limit: announced (Content-Length) or in endless chunks.
std::string FloodBody(int port, bool chunked) {
  RawClient c(port);
  if (!c.connected()) return "not connected";
  const std::string piece(64 * 1024, 'x');
  char size_line[32];
  std::snprintf(size_line, sizeof size_line, "%zx\r\n", piece.size());
  bool open = c.Send(std::string("POST /v1/leads/flood HTTP/1.1\r\nHost: test\r\n") +
                     (chunked ? "Transfer-Encoding: chunked\r\n\r\n" : "Content-Length: 1073741824\r\n\r\n"));
  for (size_t sent = 0; open && sent < kFloodBytes; sent += piece.size()) {
    open = chunked ? c.Send(size_line + piece + "\r\n") : c.Send(piece);
  }
  return c.ReadToEnd();
}

struct Floods {
  std::vector<std::string> headers = std::vector<std::string>(8), bodies = std::vector<std::string>(4),
                           chunks = std::vector<std::string>(4);
  std::vector<std::thread> threads;

  void Start(int port) {
    for (auto& r : headers) threads.emplace_back([&r, port] { r = FloodHeaders(port); });
    for (auto& r : bodies) threads.emplace_back([&r, port] { r = FloodBody(port, false); });
    for (auto& r : chunks) threads.emplace_back([&r, port] { r = FloodBody(port, true); });
  }
  void Join() {
    for (auto& t : threads) t.join();
    threads.clear();
  }
  ~Floods() { Join(); }  // a failed assertion returns early
};

TEST(HttpHostileTest, ProbesAreAnsweredWhileIdleSlowAndFloodingClientsHoldConnections) {
  HealthyBackend backend;
  auto http = HttpServer::Start("127.0.0.1:0", &backend);
  ASSERT_TRUE(http.ok()) << http.status().message();
  const int port = (*http)->port();

  std::vector<std::unique_ptr<RawClient>> held;
  for (int i = 0; i < 64; ++i) held.push_back(std::make_unique<RawClient>(port));  // connect, say nothing
  for (int i = 0; i < 8; ++i) {  // begin a request and never end it
    held.push_back(std::make_unique<RawClient>(port));
    held.back()->Send("GET /healthz HTTP/1.1\r\nHost: test\r\nX-Slow: ");
  }
  for (const auto& c : held) ASSERT_TRUE(c->connected());
  Floods floods;
  floods.Start(port);
  for (int i = 0; i < 30; ++i) {
    // A probe's timeout (a kubelet's default is 1 s): a server that makes it wait
    // behind the others fails here.
    const std::string res = Get(port, "/healthz", 5);
    ASSERT_THAT(res, StartsWith("HTTP/1.1 200")) << "probe " << i;
    EXPECT_THAT(res, HasSubstr("\r\n\r\nok\n"));
  }
  floods.Join();
  EXPECT_THAT(Get(port, "/healthz", 5), StartsWith("HTTP/1.1 200")) << "after the floods";
}

TEST(HttpHostileTest, FloodsOfHeadersAndBodiesAreRefusedAndLeaveLittleMemoryBehind) {
  HealthyBackend backend;
  auto http = HttpServer::Start("127.0.0.1:0", &backend);
  ASSERT_TRUE(http.ok()) << http.status().message();
  const int port = (*http)->port();
  ASSERT_THAT(Get(port, "/healthz"), StartsWith("HTTP/1.1 200"));
  const long before_kb = VmRssKb();

  Floods floods;
  floods.Start(port);
  floods.Join();
  // Refused with a status, or cut off (the server closes while the client still sends,
  // and a reset can overtake the status): never served.
  for (const auto& r : floods.headers) EXPECT_THAT(r, AnyOf(IsEmpty(), StartsWith("HTTP/1.1 431"))) << r.substr(0, 200);
  for (const auto& r : floods.bodies) EXPECT_THAT(r, AnyOf(IsEmpty(), StartsWith("HTTP/1.1 413"))) << r.substr(0, 200);
  for (const auto& r : floods.chunks) EXPECT_THAT(r, AnyOf(IsEmpty(), StartsWith("HTTP/1.1 413"))) << r.substr(0, 200);
  const long grown_kb = VmRssKb() - before_kb;
  const long grown_mb = grown_kb / 1024;
  RecordProperty("rss_growth_kb", std::to_string(grown_kb));
  int with_status = 0;
  for (const auto* rs : {&floods.headers, &floods.bodies, &floods.chunks}) {
    for (const auto& r : *rs) with_status += !r.empty();
  }
  RecordProperty("floods_refused_with_a_status", std::to_string(with_status) + " of 16");
  // 16 clients sent 64 MB between them; the test's own buffers are a few MB.
  EXPECT_LT(grown_mb, 50) << "RSS grew by " << grown_mb << " MB";
  EXPECT_THAT(Get(port, "/healthz"), StartsWith("HTTP/1.1 200")) << "after the floods";
}

}  // namespace
}  // namespace leadscore::server
