// The HTTP listen address, parsed and checked on its own: configuration validates it
// without linking the HTTP server.
#pragma once

#include <string>

#include "common/status.h"

namespace leadscore::server {

// "host:port" or "[IPv6]:port", port 0..65535; 0 picks a free one. The host is not
// resolved here: a name is looked up when the server binds.
struct HttpAddress {
  std::string host;  // without brackets
  int port = 0;
};
Result<HttpAddress> ParseHttpAddress(const std::string& address);

// True for addresses only this machine can reach: 127.0.0.0/8, ::1 and `localhost`.
// Any other name is taken as reachable from outside (it is not resolved here).
bool IsLoopbackHost(const std::string& host);

}  // namespace leadscore::server
