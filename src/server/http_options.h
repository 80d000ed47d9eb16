// What the HTTP server is told: where to listen, the admin token, and the limits that
// keep one client from taking the port away from the others (probes, Prometheus).
// A plain struct: configuration fills it without linking the server.
#pragma once

#include <cstddef>
#include <string>

namespace leadscore::server {

struct HttpOptions {
  // "host:port" or "[IPv6]:port" (ParseHttpAddress); port 0 picks a free one.
  std::string address = "127.0.0.1:8080";
  // When not empty, routes marked admin answer 401 unless the request carries
  // `Authorization: Bearer <admin_token>`. A non-loopback address requires one.
  std::string admin_token;
  // Threads running every connection (asynchronous: a connection never holds one).
  int io_threads = 2;
  // Open connections at most. One more closes the connection idle longest to make
  // room; when none is idle, the new one is closed as soon as it is accepted (refused
  // at once, instead of waiting in the kernel's queue).
  int max_connections = 256;
  // A connection with no request under way (new, or between keep-alive requests) is
  // closed after this long.
  int idle_timeout_ms = 10000;
  // A request must arrive whole within this long of its first byte, and a response be
  // taken by the client within this long: a slow client cannot hold a connection.
  int read_timeout_ms = 5000;
  // The request line and headers together; more answers 431 and closes.
  size_t max_header_bytes = 16 * 1024;
  // Header fields per request; more answers 431 and closes.
  int max_header_count = 100;
  // A request body (whatever Content-Length says or chunks add up to); more answers 413
  // and closes.
  size_t max_body_bytes = 1 << 20;
  // Requests served on one keep-alive connection; the last one's response says
  // `Connection: close`, so clients spread over fresh connections.
  int max_requests_per_connection = 1000;
};

}  // namespace leadscore::server
