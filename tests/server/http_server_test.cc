// The HTTP server's life: start, stop, and (below) its address. No Service is needed:
// nothing here calls a handler that reads one.
#include "server/http_server.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace leadscore::server {
namespace {

TEST(HttpServerTest, StopsRightAfterStarting) {
  // Destroyed before its thread began accepting, it used to wait for ever.
  for (int i = 0; i < 50; ++i) {
    auto s = HttpServer::Start("127.0.0.1:0", nullptr);
    ASSERT_TRUE(s.ok()) << s.status().message();
  }
}

}  // namespace
}  // namespace leadscore::server
