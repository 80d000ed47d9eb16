// HTTP on one port: the leadscore API (server/api_routes.h) or any Router. Every
// connection is asynchronous on a few io threads, so idle, slow or flooding clients
// cost a socket and a bounded buffer each, never a thread; requests are bounded in
// header bytes, header count and body size, connections in number, idle time, read
// time and requests (HttpOptions). Handlers run on the io threads and must not block.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "server/address.h"
#include "server/backend.h"
#include "server/http_options.h"
#include "server/router.h"

namespace leadscore::server {

class HttpServer {
 public:
  // Listens on options.address (as ParseHttpAddress takes it) and serves `router`.
  // Refuses a port another socket listens on ("address already in use": two services
  // never share one port), and a non-loopback address without an admin token (SPEC
  // section 5).
  static Result<std::unique_ptr<HttpServer>> Start(const HttpOptions& options, Router router);
  // The leadscore API over `backend` (ApiRouter).
  static Result<std::unique_ptr<HttpServer>> Start(const HttpOptions& options, Backend* backend);
  // The same with default limits and no admin token.
  static Result<std::unique_ptr<HttpServer>> Start(const std::string& address, Backend* backend);
  ~HttpServer();  // stops, closes every connection and joins its threads
  int port() const;

 private:
  struct Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace leadscore::server
