#include "server/http_server.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/error.hpp>
#include <chrono>
#include <thread>
#include <vector>

#include "logging/logging.h"
#include "server/api_routes.h"
#include "server/connection.h"

namespace leadscore::server {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
using tcp = net::ip::tcp;
using std::chrono::milliseconds;

std::string ListenError(const std::string& address, const beast::error_code& ec) {
  const std::string why = ec == net::error::address_in_use ? "address already in use (another process listens on it)"
                                                            : ec.message();
  return "cannot listen on " + address + ": " + why;
}

}  // namespace

struct HttpServer::Impl {
  Impl(HttpOptions options, Router router) : shared(std::move(options), std::move(router)) {}

  void Accept() {
    // Each connection gets its own strand: its handlers never run at the same time,
    // different connections' do, on any io thread.
    acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
      if (ec == net::error::operation_aborted) return;
      if (ec) {
        // Out of descriptors, mostly: the connections that hold them time out.
        if (throttle.Admit("accept", NowMs())) spdlog::warn("http: accept failed: {}", ec.message());
      } else if (shared.open.load() >= shared.options.max_connections && !EvictIdlestConnection(&shared)) {
        // Full, and every connection busy with a request: closed at once rather than
        // left in the kernel's queue, where its client would wait for nothing.
        if (auto left_out = throttle.Admit("full", NowMs())) {
          spdlog::warn("http: {} connections open (http.max_connections), each with a request under way: closing "
                       "new ones{}",
                       shared.options.max_connections,
                       *left_out ? fmt::format(" ({} more closed since the last line)", *left_out) : "");
        }
        beast::error_code ignored;
        socket.close(ignored);
      } else {
        shared.open.fetch_add(1);
        ServeConnection(std::move(socket), &shared);
      }
      Accept();
    });
  }

  static int64_t NowMs() {
    return std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
  }

  // Declared in the order they are needed: the io_context, when it goes, destroys the
  // sessions still open, which use `shared`.
  ConnectionShared shared;
  net::io_context ioc;
  tcp::acceptor acceptor{net::make_strand(ioc)};
  logging::Throttle throttle{10000};  // used on the acceptor's strand only
  std::vector<std::thread> threads;
  int port = 0;
};

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<HttpServer>> HttpServer::Start(const std::string& address, Backend* backend) {
  HttpOptions o;
  o.address = address;
  return Start(o, ApiRouter(backend));
}

Result<std::unique_ptr<HttpServer>> HttpServer::Start(const HttpOptions& options, Backend* backend) {
  return Start(options, ApiRouter(backend));
}

Result<std::unique_ptr<HttpServer>> HttpServer::Start(const HttpOptions& options, Router router) {
  auto parsed = ParseHttpAddress(options.address);
  if (!parsed.ok()) return parsed.status();
  if (!IsLoopbackHost(parsed->host) && options.admin_token.empty()) {
    return Status::InvalidArgument("http address " + options.address +
                                   " can be reached from other machines: set an admin token, or listen on a "
                                   "loopback address such as 127.0.0.1");
  }
  auto impl = std::make_unique<Impl>(options, std::move(router));
  beast::error_code ec;
  tcp::resolver resolver(impl->ioc);
  const auto endpoints = resolver.resolve(parsed->host, std::to_string(parsed->port),
                                          tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec) return Status::Unavailable("cannot listen on " + options.address + ": the host cannot be resolved (" + ec.message() + ")");
  tcp::acceptor& acceptor = impl->acceptor;
  ec = net::error::host_not_found;
  for (const auto& entry : endpoints) {
    beast::error_code step;
    if (acceptor.is_open()) acceptor.close(step);
    acceptor.open(entry.endpoint().protocol(), step);
    // SO_REUSEADDR lets a restart bind while old connections linger in TIME_WAIT and
    // still refuses a port someone listens on; SO_REUSEPORT (never set) would let a
    // second process share it.
    if (!step) acceptor.set_option(net::socket_base::reuse_address(true), step);
    if (!step) acceptor.bind(entry.endpoint(), step);
    if (!step) acceptor.listen(net::socket_base::max_listen_connections, step);
    ec = step;
    if (!ec) break;
  }
  if (ec) return Status::Unavailable(ListenError(options.address, ec));
  impl->port = acceptor.local_endpoint().port();
  impl->Accept();
  const int threads = std::max(1, options.io_threads);
  for (int i = 0; i < threads; ++i) {
    impl->threads.emplace_back([io = &impl->ioc] {
      for (;;) {
        try {
          io->run();
          return;
        } catch (const std::exception& e) {
          spdlog::error("http: io thread: {}", e.what());
        }
      }
    });
  }
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

HttpServer::~HttpServer() {
  impl_->ioc.stop();
  for (auto& t : impl_->threads) t.join();
}

int HttpServer::port() const { return impl_->port; }

}  // namespace leadscore::server
