#include "server/http_server.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <chrono>
#include <list>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "logging/logging.h"
#include "server/api_routes.h"
#include "server/request_parser.h"

namespace leadscore::server {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using std::chrono::milliseconds;

class Session;

// What every connection shares. It lives in the server, which outlives every
// connection (they end when its io_context is destroyed).
struct Shared {
  HttpOptions options;
  Router router;
  std::atomic<int> open{0};
  // Connections waiting for a request (new, or between keep-alive requests), the one
  // waiting longest first: when the server is full, it is closed to make room, so
  // idle sockets cannot keep a probe out until they time out.
  std::mutex idle_mu;
  std::list<std::weak_ptr<Session>> idle;
};

// One connection: read a request, answer it, again while keep-alive allows. Its
// handlers run on its own strand, one at a time; it lives as long as an operation of
// its own is pending.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, Shared* shared)
      : stream_(std::move(socket)),
        shared_(shared),
        // The whole header must fit, and the body passes through in pieces: this is
        // all a connection ever buffers (plus the body it keeps, up to its limit).
        buffer_(shared->options.max_header_bytes + kBodyPiece) {}
  ~Session() {
    LeaveIdle();
    shared_->open.fetch_sub(1);
  }

  // Idle from the moment it is accepted (on the acceptor's strand, so the next
  // connection accepted already finds it there).
  void Start() {
    EnterIdle();
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->ReadRequest(); });
  }

  // Closes the connection idle longest, if any; false when none is idle.
  static bool EvictIdlest(Shared* shared) {
    std::shared_ptr<Session> victim;
    {
      std::lock_guard lock(shared->idle_mu);
      while (!victim && !shared->idle.empty()) {
        victim = shared->idle.front().lock();
        if (victim) victim->idle_at_.reset();
        shared->idle.pop_front();
      }
    }
    if (!victim) return false;
    // On its own strand: its pending read ends (aborted) and it closes.
    net::post(victim->stream_.get_executor(), [victim] { victim->stream_.cancel(); });
    return true;
  }

 private:
  static constexpr size_t kBodyPiece = 64 * 1024;
  static constexpr size_t kLingerBytes = 1 << 20;

  const HttpOptions& options() const { return shared_->options; }

  void ReadRequest() {
    const HttpOptions& o = options();
    parser_.emplace(o.max_header_bytes, o.max_header_count, o.max_body_bytes);
    if (buffer_.size() > 0) {  // the next request (pipelined) has begun
      LeaveIdle();
      return ReadRest();
    }
    // Idle until its first byte: a connection waiting for nothing is let go sooner or
    // later, whatever it is (a keep-alive client between scrapes, or one that never
    // sends).
    EnterIdle();
    stream_.expires_after(milliseconds(o.idle_timeout_ms));
    stream_.async_read_some(buffer_.prepare(4096), [self = shared_from_this()](beast::error_code ec, size_t n) {
      self->LeaveIdle();
      if (ec) return self->Close();
      self->buffer_.commit(n);
      self->ReadRest();
    });
  }

  // The rest of a begun request, all of it within the read timeout: a client sending
  // a byte now and then cannot hold the connection.
  void ReadRest() {
    stream_.expires_after(milliseconds(options().read_timeout_ms));
    http::async_read_header(stream_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec || self->parser_->is_done() || !self->parser_->expects_continue()) return self->ReadBody(ec);
      // The header passed its limits (a Content-Length over the body limit did not):
      // the client may send the body.
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      net::async_write(self->stream_, net::buffer(kContinue.data(), kContinue.size()),
                       [self](beast::error_code ec, size_t) { self->ReadBody(ec); });
    });
  }
  void ReadBody(beast::error_code ec) {
    if (ec || parser_->is_done()) return OnRequest(ec);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRequest(ec); });
  }

  void OnRequest(beast::error_code ec) {
    if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
      return Refuse(431, "request header fields too large or too many");
    }
    if (ec == http::error::body_limit) return Refuse(413, "request body too large");
    if (ec == http::error::end_of_stream || ec == http::error::partial_message) return Close();
    // Any other error of the HTTP parser: what came is not HTTP/1.x.
    if (ec && ec.category() == beast::error_code(http::error::bad_method).category()) return Refuse(400, "bad request");
    if (ec) return Close();  // reset or timed out: nobody to answer
    Serve();
  }

  void Serve() {
    Request& req = parser_->request();
    const std::string& target = parser_->target();
    const size_t q = target.find('?');
    req.path = PercentDecode(std::string_view(target).substr(0, q));
    if (q != std::string::npos) req.query = target.substr(q + 1);
    Response res;
    try {
      res = shared_->router.Dispatch(req, options().admin_token);
    } catch (const std::exception& e) {
      spdlog::error("http: {} {}: {}", req.method, req.path, e.what());
      res = {.status = 500, .content_type = "text/plain", .body = "internal error\n", .headers = {}};
    }
    ++served_;
    const bool keep_alive = parser_->keep_alive() && served_ < options().max_requests_per_connection;
    Write(std::move(res), parser_->version(), keep_alive, req.method == "HEAD");
  }

  // Answers a request that will not be read to its end, then closes.
  void Refuse(int status, const std::string& why) {
    spdlog::debug("http: refused a request: {} {}", status, why);
    Write({.status = status, .content_type = "text/plain", .body = why + "\n", .headers = {}}, 11, false, false, true);
  }

  void Write(Response r, int version, bool keep_alive, bool head, bool linger = false) {
    response_ = {};
    response_.version(version == 10 ? 10 : 11);
    response_.result(static_cast<unsigned>(r.status));
    response_.set(http::field::content_type, r.content_type);
    for (auto& [name, value] : r.headers) response_.set(name, value);
    response_.body() = std::move(r.body);
    response_.prepare_payload();
    if (head) {  // the length of what GET would send, and no body
      const size_t n = response_.body().size();
      response_.body().clear();
      response_.content_length(n);
    }
    response_.keep_alive(keep_alive);
    // A client that does not read its response is as slow as one that does not send.
    stream_.expires_after(milliseconds(options().read_timeout_ms));
    http::async_write(stream_, response_, [self = shared_from_this(), keep_alive, linger](beast::error_code ec, size_t) {
      if (ec) return self->Close();
      if (linger) return self->Linger();
      if (!keep_alive) return self->Close();
      // A keep-alive connection waits holding nothing of the last exchange (its body
      // may have been a MiB; a /metrics text is a hundred KB).
      self->parser_.reset();
      self->response_ = {};
      if (self->buffer_.size() == 0) self->buffer_.shrink_to_fit();
      self->ReadRequest();
    });
  }

  // After a refusal the client may still be sending what was refused: closing with its
  // bytes unread would reset the connection, and the reset can overtake the status. So
  // the server says it is done (FIN), then reads and drops a bounded amount, within the
  // read timeout, before it closes (as nginx's lingering close).
  void Linger() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.expires_after(milliseconds(options().read_timeout_ms));
    buffer_.clear();
    Discard();
  }
  void Discard() {
    stream_.async_read_some(buffer_.prepare(kBodyPiece), [self = shared_from_this()](beast::error_code ec, size_t n) {
      self->discarded_ += n;
      if (ec || self->discarded_ >= kLingerBytes) return self->Close();
      self->Discard();
    });
  }

  void EnterIdle() {
    std::lock_guard lock(shared_->idle_mu);
    if (!idle_at_) idle_at_ = shared_->idle.insert(shared_->idle.end(), weak_from_this());
  }
  void LeaveIdle() {
    std::lock_guard lock(shared_->idle_mu);
    if (idle_at_) shared_->idle.erase(*idle_at_);
    idle_at_.reset();
  }

  // Sends FIN so that the client reads what was written; the socket closes when the
  // session goes (no operation of its own is pending any more).
  void Close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.cancel();
  }

  beast::tcp_stream stream_;
  Shared* shared_;
  beast::flat_buffer buffer_;
  std::optional<RequestParser> parser_;
  http::response<http::string_body> response_;
  int served_ = 0;
  size_t discarded_ = 0;
  std::optional<std::list<std::weak_ptr<Session>>::iterator> idle_at_;  // under shared_->idle_mu
};

std::string ListenError(const std::string& address, const beast::error_code& ec) {
  const std::string why = ec == net::error::address_in_use ? "address already in use (another process listens on it)"
                                                            : ec.message();
  return "cannot listen on " + address + ": " + why;
}

}  // namespace

struct HttpServer::Impl {
  Impl(HttpOptions options, Router router) : shared{std::move(options), std::move(router)} {}

  void Accept() {
    // Each connection gets its own strand: its handlers never run at the same time,
    // different connections' do, on any io thread.
    acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
      if (ec == net::error::operation_aborted) return;
      if (ec) {
        // Out of descriptors, mostly: the connections that hold them time out.
        if (throttle.Admit("accept", NowMs())) spdlog::warn("http: accept failed: {}", ec.message());
      } else if (shared.open.load() >= shared.options.max_connections && !Session::EvictIdlest(&shared)) {
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
        std::make_shared<Session>(std::move(socket), &shared)->Start();
      }
      Accept();
    });
  }

  static int64_t NowMs() {
    return std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
  }

  // Declared in the order they are needed: the io_context, when it goes, destroys the
  // sessions still open, which use `shared`.
  Shared shared;
  net::io_context ioc;
  tcp::acceptor acceptor{net::make_strand(ioc)};
  logging::Throttle throttle{10000};  // used on the acceptor's strand only
  std::vector<std::thread> threads;
  int port = 0;
};

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<HttpServer>> HttpServer::Start(const std::string& address, const Backend* backend) {
  HttpOptions o;
  o.address = address;
  return Start(o, ApiRouter(backend));
}

Result<std::unique_ptr<HttpServer>> HttpServer::Start(const HttpOptions& options, const Backend* backend) {
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
