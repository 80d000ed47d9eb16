// HTTP on one port: GET /v1/leads/{id}, /v1/accounts/{id} (JSON views), /metrics
// (Prometheus text), /healthz, /readyz. Serves from its own threads; everything it
// reads comes from its Backend, which never makes it wait for a batch.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "common/status.h"
#include "server/backend.h"

namespace httplib {
class Server;
}

namespace leadscore::server {

// "host:port" or "[IPv6]:port", port 0..65535; 0 picks a free one. The host is not
// resolved here: a name is looked up when the server binds.
struct HttpAddress {
  std::string host;  // without brackets
  int port = 0;
};
Result<HttpAddress> ParseHttpAddress(const std::string& address);

class HttpServer {
 public:
  // `address` as ParseHttpAddress takes it. Refuses a port another socket listens on
  // ("address already in use"): two services never share one port.
  static Result<std::unique_ptr<HttpServer>> Start(const std::string& address, const Backend* backend);
  ~HttpServer();  // stops and joins
  int port() const { return port_; }

 private:
  HttpServer() = default;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::atomic<bool> listen_returned_{false};
  int port_ = 0;
};


}  // namespace leadscore::server
