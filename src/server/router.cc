#include "server/router.h"

#include <cctype>

namespace leadscore::server {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Response Error(int status, const std::string& message) {
  // The same shape as the views' errors: {"error": "..."}; the message is ours, no
  // escaping needed.
  return {.status = status, .content_type = "application/json", .body = "{\"error\":\"" + message + "\"}", .headers = {}};
}

bool Authorized(const Request& request, const std::string& admin_token) {
  if (admin_token.empty()) return true;
  constexpr std::string_view kScheme = "Bearer ";
  const std::string& h = request.authorization;
  if (h.size() < kScheme.size()) return false;
  // The scheme is case-insensitive (RFC 7235); the token is compared exactly.
  for (size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(h[i])) != std::tolower(static_cast<unsigned char>(kScheme[i]))) return false;
  }
  return ConstantTimeEquals(std::string_view(h).substr(kScheme.size()), admin_token);
}

}  // namespace

void Router::Exact(std::string method, std::string path, Access access, Handler handler) {
  routes_.push_back({std::move(method), std::move(path), false, access, std::move(handler)});
}

void Router::Prefix(std::string method, std::string prefix, Access access, Handler handler) {
  routes_.push_back({std::move(method), std::move(prefix), true, access, std::move(handler)});
}

Response Router::Dispatch(const Request& request, const std::string& admin_token) const {
  const std::string method = request.method == "HEAD" ? "GET" : request.method;
  bool path_known = false;
  std::string allowed;
  for (const Route& r : routes_) {
    const bool matches = r.prefix ? request.path.size() > r.path.size() && request.path.compare(0, r.path.size(), r.path) == 0
                                  : request.path == r.path;
    if (!matches) continue;
    path_known = true;
    if (r.method != method) {
      allowed += (allowed.empty() ? "" : ", ") + r.method;
      continue;
    }
    if (r.access == Access::kAdmin && !Authorized(request, admin_token)) {
      Response res = Error(401, "this endpoint needs Authorization: Bearer <http.admin_token>");
      res.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"leadscore\"");
      return res;
    }
    return r.handler(request, r.prefix ? request.path.substr(r.path.size()) : std::string());
  }
  if (!path_known) return {.status = 404, .content_type = "text/plain", .body = "", .headers = {}};
  Response res = Error(405, "method not allowed");
  res.headers.emplace_back("Allow", allowed);
  return res;
}

std::string PercentDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      const int hi = HexValue(text[i + 1]), lo = HexValue(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += text[i];
  }
  return out;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  // Every byte of `a` is looked at whatever the lengths; a length difference is folded
  // into the result rather than returned early.
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i]) ^ static_cast<unsigned char>(b.empty() ? 0 : b[i % b.size()]);
  return diff == 0;
}

}  // namespace leadscore::server
