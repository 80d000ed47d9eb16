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

}  // namespace leadscore::server
