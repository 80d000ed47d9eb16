// Which handler answers a request, and whether the caller may use it: routes by method
// and path (exact, or a prefix whose rest is the argument, such as an id), with the
// admin check in one place. Knows nothing of sockets: the server hands it a parsed
// request and writes back what it returns. Dispatch is const and thread-safe when the
// handlers are.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace leadscore::server {

struct Request {
  std::string method;         // "GET", "PUT", ...; HEAD is served as GET without the body
  std::string path;           // percent-decoded: %2F is a '/' in it
  std::string query;          // after '?', as sent
  std::string authorization;  // the Authorization header, empty if absent
  std::string body;
};

struct Response {
  int status = 200;
  std::string content_type = "text/plain";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // any besides Content-Type
};

// Admin routes change something (SPEC section 5): they need the admin token when one is
// configured.
enum class Access { kPublic, kAdmin };

class Router {
 public:
  // `arg` is the path after a prefix route's prefix (never empty), empty for exact routes.
  using Handler = std::function<Response(const Request& request, const std::string& arg)>;

  void Exact(std::string method, std::string path, Access access, Handler handler);
  // Matches paths that start with `prefix` and have something after it.
  void Prefix(std::string method, std::string prefix, Access access, Handler handler);

  // 404 for no such path, 405 for a path without that method, 401 for an admin route
  // without the bearer token (when `admin_token` is not empty), else the handler's.
  Response Dispatch(const Request& request, const std::string& admin_token) const;

 private:
  struct Route {
    std::string method, path;
    bool prefix;
    Access access;
    Handler handler;
  };
  std::vector<Route> routes_;
};

// Decodes %XX in a path (a bad escape is kept as written); '+' stays '+'.
std::string PercentDecode(std::string_view text);

// Compares in time that depends only on the lengths, not on where they differ: a
// token cannot be guessed byte by byte from response times.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace leadscore::server
