#include "server/address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

namespace leadscore::server {

Result<HttpAddress> ParseHttpAddress(const std::string& address) {
  auto bad = [&address](const std::string& why) {
    return Status::InvalidArgument("http address '" + address + "': " + why);
  };
  const auto colon = address.rfind(':');
  if (colon == std::string::npos) return bad("expected host:port, such as 127.0.0.1:8080 or [::1]:8080");
  HttpAddress a;
  const std::string port = address.substr(colon + 1);
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(port) > 65535) {
    return bad("the port must be a number from 0 to 65535 (0: any free port), not '" + port + "'");
  }
  a.port = std::stoi(port);
  a.host = address.substr(0, colon);
  if (a.host.size() >= 2 && a.host.front() == '[' && a.host.back() == ']') {
    a.host = a.host.substr(1, a.host.size() - 2);
    in6_addr v6;
    if (inet_pton(AF_INET6, a.host.c_str(), &v6) != 1) return bad("'" + a.host + "' in brackets is not an IPv6 address");
  } else if (a.host.find_first_of(":[]") != std::string::npos) {
    return bad("an IPv6 address goes in brackets, such as [::1]:8080");
  }
  if (a.host.empty()) return bad("no host: give one, such as 127.0.0.1, or 0.0.0.0 / [::] for every interface");
  if (a.host.find_first_of(" \t/") != std::string::npos) return bad("'" + a.host + "' is not a host name or address");
  return a;
}

bool IsLoopbackHost(const std::string& host) {
  if (host == "localhost") return true;
  in_addr v4;
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6;
  if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
    if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
    // ::ffff:127.x.x.x is the IPv4 loopback written as IPv6.
    return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
  }
  return false;
}

}  // namespace leadscore::server
