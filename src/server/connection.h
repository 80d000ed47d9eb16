// Internal to the HTTP server: one connection, served asynchronously on its own
// strand (read a request within the limits, answer it, again while keep-alive allows),
// and what all connections share. Thread-safe as described on each member.
#pragma once

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <list>
#include <memory>
#include <mutex>
#include <utility>

#include "server/http_options.h"
#include "server/router.h"

namespace leadscore::server {

class Connection;

// What every connection shares. It lives in the server, which outlives every
// connection (they end when its io_context is destroyed).
struct ConnectionShared {
  ConnectionShared(HttpOptions o, Router r) : options(std::move(o)), router(std::move(r)) {}
  HttpOptions options;
  Router router;
  std::atomic<int> open{0};
  // Connections waiting for a request (new, or between keep-alive requests), the one
  // waiting longest first: when the server is full, it is closed to make room, so
  // idle sockets cannot keep a probe out until they time out.
  std::mutex idle_mu;
  std::list<std::weak_ptr<Connection>> idle;
};

// Serves `socket`, just accepted and already counted in shared->open (the connection
// uncounts itself when it ends). Call on the acceptor's strand: the connection is idle
// from then on.
void ServeConnection(boost::asio::ip::tcp::socket socket, ConnectionShared* shared);

// Closes the connection idle longest, if any; false when none is idle. Any thread.
bool EvictIdlestConnection(ConnectionShared* shared);

}  // namespace leadscore::server
