// HTTP on one port: GET /v1/leads/{id}, /v1/accounts/{id} (JSON views), /metrics
// (Prometheus text), /healthz, /readyz. Serves from its own threads; everything it
// reads comes from its Backend, which never makes it wait for a batch.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "common/status.h"
#include "server/address.h"
#include "server/backend.h"

namespace httplib {
class Server;
}

namespace leadscore::server {

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
