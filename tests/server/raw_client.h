// A client that speaks HTTP by hand over a blocking socket, to do what well-behaved
// clients do not: stay silent, send half a request, send headers or a body for ever.
// The socket timeouts only keep a broken server from hanging the test; nothing is
// measured with them.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <fstream>
#include <string>

namespace leadscore::server::test_client {

class RawClient {
 public:
  explicit RawClient(int port, int timeout_s = 10) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{.tv_sec = timeout_s, .tv_usec = 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~RawClient() {
    if (fd_ >= 0) close(fd_);
  }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  bool connected() const { return connected_; }

  // False once the server has closed or reset the connection (or it timed out).
  bool Send(const std::string& data) {
    for (size_t at = 0; at < data.size();) {
      const ssize_t n = send(fd_, data.data() + at, data.size() - at, MSG_NOSIGNAL);
      if (n <= 0) return false;
      at += static_cast<size_t>(n);
    }
    return true;
  }

  // Exactly `n` bytes, or fewer if the connection ends first.
  std::string Read(size_t n) {
    std::string out(n, '\0');
    const ssize_t got = recv(fd_, out.data(), n, MSG_WAITALL);
    out.resize(got > 0 ? static_cast<size_t>(got) : 0);
    return out;
  }

  // Everything until the server closes (or resets, or the safety timeout).
  std::string ReadToEnd() {
    std::string out;
    char buf[16384];
    for (;;) {
      const ssize_t n = recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return out;
      out.append(buf, static_cast<size_t>(n));
    }
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

// GET `path` on a fresh connection that asks to be closed; the whole response.
inline std::string Get(int port, const std::string& path, int timeout_s = 10) {
  RawClient c(port, timeout_s);
  if (!c.connected() || !c.Send("GET " + path + " HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")) return "";
  return c.ReadToEnd();
}

// The process's resident memory, from /proc/self/status.
inline long VmRssKb() {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

}  // namespace leadscore::server::test_client
