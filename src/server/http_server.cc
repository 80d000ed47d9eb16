#include "server/http_server.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <sys/socket.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <thread>


namespace leadscore::server {
namespace {

void Str(std::string* out, std::string_view s) {
  *out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"': *out += "\\\""; break;
      case '\\': *out += "\\\\"; break;
      case '\n': *out += "\\n"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          *out += buf;
        } else {
          *out += static_cast<char>(c);
        }
    }
  }
  *out += '"';
}

void Num(std::string* out, double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.10g", std::isfinite(v) ? v : 0.0);
  *out += buf;
}

std::string ToJson(const engine::EntityView& v, bool lead, const std::string& model_version) {
  std::string o = "{";
  Str(&o, lead ? "lead_id" : "account_id");
  o += ':';
  Str(&o, v.id);
  if (lead) {
    o += ",\"account_id\":";
    Str(&o, v.account_id);
  }
  o += ",\"fit\":";
  Num(&o, v.fit);
  o += ",\"grade\":";
  Str(&o, v.grade);
  o += ",\"intent\":";
  Num(&o, v.intent);
  o += ",\"score\":";
  Num(&o, v.score);
  o += ",\"tier\":";
  Str(&o, v.tier);
  o += ",\"disqualified\":";
  o += v.disqualified ? "true" : "false";
  o += ",\"factors\":[";
  for (size_t i = 0; i < v.factors.size(); ++i) {
    const auto& f = v.factors[i];
    o += i ? ",{\"name\":" : "{\"name\":";
    Str(&o, f.name);
    o += ",\"points\":";
    Num(&o, f.points);
    o += ",\"count\":" + std::to_string(f.count) + ",\"last_at_ms\":" + std::to_string(f.last_at_ms) + "}";
  }
  o += "]";
  if (!lead) {
    o += ",\"committee\":{\"roles\":[";
    for (size_t i = 0; i < v.committee_roles.size(); ++i) {
      if (i) o += ',';
      Str(&o, v.committee_roles[i]);
    }
    o += "],\"coverage\":";
    Num(&o, v.coverage);
    o += ",\"engaged_contacts\":" + std::to_string(v.engaged_contacts) + "},\"leads\":" + std::to_string(v.lead_count);
  }
  o += ",\"recent_changes\":[";
  for (size_t i = 0; i < v.recent_changes.size(); ++i) {
    const auto& c = v.recent_changes[i];
    o += i ? ",{\"from_tier\":" : "{\"from_tier\":";
    Str(&o, c.from_tier);
    o += ",\"to_tier\":";
    Str(&o, c.to_tier);
    o += ",\"at_ms\":" + std::to_string(c.at_ms) + ",\"routing_id\":";
    Str(&o, c.routing_id);
    o += "}";
  }
  o += "],\"model_version\":";
  Str(&o, model_version);
  o += ",\"as_of_ms\":" + std::to_string(v.as_of_ms) + "}";
  return o;
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
      const std::string id = req.matches[1];
      auto v = lead ? service->ViewLead(id) : service->ViewAccount(id);
      if (!v) {
        res.status = 404;
        res.set_content(std::string("{\"error\":\"no such ") + (lead ? "lead" : "account") + "\"}", "application/json");
        return;
      }
      res.set_content(ToJson(*v, lead, service->model_version()), "application/json");
    };
  };
  srv.Get(R"(/v1/leads/([^/]+))", view(true));
  srv.Get(R"(/v1/accounts/([^/]+))", view(false));
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
