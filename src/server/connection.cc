#include "server/connection.h"

#include <spdlog/spdlog.h>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <chrono>
#include <optional>

#include "server/request_parser.h"

namespace leadscore::server {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using std::chrono::milliseconds;

// One connection: read a request, answer it, again while keep-alive allows. Its
// handlers run on its own strand, one at a time; it lives as long as an operation of
// its own is pending.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, ConnectionShared* shared)
      : stream_(std::move(socket)),
        shared_(shared),
        // The whole header must fit, and the body passes through in pieces: this is
        // all a connection ever buffers (plus the body it keeps, up to its limit).
        buffer_(shared->options.max_header_bytes + kBodyPiece) {}
  ~Connection() {
    LeaveIdle();
    shared_->open.fetch_sub(1);
  }

  // Idle from the moment it is accepted (on the acceptor's strand, so the next
  // connection accepted already finds it there).
  void Start() {
    EnterIdle();
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->ReadRequest(); });
  }

  static bool EvictIdlest(ConnectionShared* shared) {
    std::shared_ptr<Connection> victim;
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
  ConnectionShared* shared_;
  beast::flat_buffer buffer_;
  std::optional<RequestParser> parser_;
  http::response<http::string_body> response_;
  int served_ = 0;
  size_t discarded_ = 0;
  std::optional<std::list<std::weak_ptr<Connection>>::iterator> idle_at_;  // under shared_->idle_mu
};

void ServeConnection(tcp::socket socket, ConnectionShared* shared) {
  std::make_shared<Connection>(std::move(socket), shared)->Start();
}

bool EvictIdlestConnection(ConnectionShared* shared) { return Connection::EvictIdlest(shared); }

}  // namespace leadscore::server
