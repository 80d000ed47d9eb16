#include "server/http_server.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <sys/socket.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>
#include <thread>


namespace leadscore::server {
namespace {

using Json = nlohmann::ordered_json;

// The protobuf JSON mapping, as the routing events on the topic are written
// (codec::ToJson): int64 as a string, doubles at full precision (shortest text that
// reads back to the same double), a whole double without ".0" (protobuf prints 80, not
// 80.0), and no number for what JSON cannot say (NaN, infinities: null).
Json Int64(int64_t v) { return std::to_string(v); }
Json Double(double v) {
  if (!std::isfinite(v)) return nullptr;
  if (v == std::trunc(v) && std::fabs(v) < 9007199254740992.0) return static_cast<int64_t>(v);  // 2^53: exact
  return v;
}

std::string ToJson(const engine::EntityView& v, bool lead, const std::string& model_version) {
  Json o;
  o[lead ? "lead_id" : "account_id"] = v.id;
  if (lead) o["account_id"] = v.account_id;
  o["fit"] = Double(v.fit);
  o["grade"] = v.grade;
  o["intent"] = Double(v.intent);
  o["score"] = Double(v.score);
  o["tier"] = v.tier;
  o["disqualified"] = v.disqualified;
  Json factors = Json::array();
  for (const auto& f : v.factors) {
    factors.push_back({{"name", f.name}, {"points", Double(f.points)}, {"count", f.count}, {"last_at_ms", Int64(f.last_at_ms)}});
  }
  o["factors"] = std::move(factors);
  if (!lead) {
    o["committee"] = {{"roles", v.committee_roles}, {"coverage", Double(v.coverage)}, {"engaged_contacts", v.engaged_contacts}};
    o["leads"] = v.lead_count;
  }
  Json changes = Json::array();
  for (const auto& c : v.recent_changes) {
    changes.push_back({{"from_tier", c.from_tier}, {"to_tier", c.to_tier}, {"at_ms", Int64(c.at_ms)}, {"routing_id", c.routing_id}});
  }
  o["recent_changes"] = std::move(changes);
  o["model_version"] = model_version;
  o["as_of_ms"] = Int64(v.as_of_ms);
  // Ids come from the records as they were sent: bytes that are not UTF-8 become U+FFFD
  // rather than an exception.
  return o.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// cpp-httplib's default sets SO_REUSEPORT, which lets a second process bind the same
// port and take a share of its connections. SO_REUSEADDR alone still allows a restart
// while old connections linger in TIME_WAIT, and refuses a port someone listens on.
void ExclusiveSocketOptions(socket_t sock) {
  int yes = 1;
  setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
}

}  // namespace

Result<std::unique_ptr<HttpServer>> HttpServer::Start(const std::string& address, const Backend* service) {
  auto parsed = ParseHttpAddress(address);
  if (!parsed.ok()) return parsed.status();
  const std::string& host = parsed->host;
  const int port = parsed->port;
  std::unique_ptr<HttpServer> s(new HttpServer());
  s->server_ = std::make_unique<httplib::Server>();
  httplib::Server& srv = *s->server_;
  srv.set_socket_options(ExclusiveSocketOptions);
  auto view = [service](bool lead) {
    return [service, lead](const httplib::Request& req, httplib::Response& res) {
      // Until partitions are assigned and resumed, "no such lead" would be a guess.
      if (!service->Ready()) {
        res.status = 503;
        res.set_content(Json{{"error", "not ready: no partitions assigned or state not resumed"}}.dump(),
                        "application/json");
        return;
      }
      const std::string id = req.matches[1];
      auto v = lead ? service->ViewLead(id) : service->ViewAccount(id);
      if (!v) {
        res.status = 404;
        res.set_content(Json{{"error", std::string("no such ") + (lead ? "lead" : "account")}}.dump(), "application/json");
        return;
      }
      res.set_content(ToJson(*v, lead, service->model_version()), "application/json");
    };
  };
  // The path is percent-decoded before it is matched: an id with a '/' (sent as %2F)
  // is everything after the prefix.
  srv.Get(R"(/v1/leads/(.+))", view(true));
  srv.Get(R"(/v1/accounts/(.+))", view(false));
  srv.Get("/metrics", [service](const httplib::Request&, httplib::Response& res) {
    res.set_content(service->MetricsText(), "text/plain; version=0.0.4");
  });
  srv.Get("/healthz", [service](const httplib::Request&, httplib::Response& res) {
    res.status = service->Healthy() ? 200 : 503;
    res.set_content(service->Healthy() ? "ok\n" : "processing failed\n", "text/plain");
  });
  srv.Get("/readyz", [service](const httplib::Request&, httplib::Response& res) {
    const bool ready = service->Ready();
    res.status = ready ? 200 : 503;
    res.set_content(ready ? "ready\n" : "not ready: no partitions assigned or state not restored\n", "text/plain");
  });
  errno = 0;
  s->port_ = port == 0 ? srv.bind_to_any_port(host) : (srv.bind_to_port(host, port) ? port : -1);
  if (s->port_ <= 0) {
    // cpp-httplib says only that it failed; errno is still bind()'s (or the lookup's).
    const int err = errno;
    std::string why = err == EADDRINUSE ? "address already in use (another process listens on it)"
                      : err != 0        ? std::strerror(err)
                                        : "the host cannot be resolved or bound";
    return Status::Unavailable("cannot listen on " + address + ": " + why);
  }
  s->thread_ = std::thread([&srv, &returned = s->listen_returned_] {
    srv.listen_after_bind();
    returned = true;
  });
  // cpp-httplib's stop() does nothing until its accept loop has begun, so a server
  // destroyed right after Start would wait forever: return once it is accepting (or
  // its loop already ended). This is the other thread's first few instructions.
  while (!srv.is_running() && !s->listen_returned_) std::this_thread::yield();
  return s;
}

HttpServer::~HttpServer() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace leadscore::server
