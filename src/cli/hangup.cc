#include "cli/hangup.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <string>

namespace leadscore::cli {
namespace {

constexpr char kHangup = 'H', kQuit = 'Q';

// The write end of the installed watcher's pipe; -1 when none is installed.
std::atomic<int> g_hangup_fd{-1};

extern "C" void OnHangup(int) {
  const int saved = errno;
  const int fd = g_hangup_fd.load();
  // Non-blocking: with the pipe full, hangups not yet taken count as one anyway.
  if (fd >= 0 && write(fd, &kHangup, 1) < 0) {
  }
  errno = saved;
}

}  // namespace

Result<std::unique_ptr<HangupWatcher>> HangupWatcher::Install(std::function<void()> on_hangup) {
  std::unique_ptr<HangupWatcher> w(new HangupWatcher());
  w->on_hangup_ = std::move(on_hangup);
  if (pipe2(w->pipe_, O_CLOEXEC) != 0 || fcntl(w->pipe_[1], F_SETFL, O_NONBLOCK) != 0) {
    return Status::IoError(std::string("SIGHUP watcher: pipe: ") + std::strerror(errno));
  }
  int expected = -1;
  if (!g_hangup_fd.compare_exchange_strong(expected, w->pipe_[1])) {
    close(w->pipe_[0]);
    close(w->pipe_[1]);
    w->pipe_[0] = w->pipe_[1] = -1;
    return Status::InvalidArgument("SIGHUP watcher: one is installed already");
  }
  w->thread_ = std::thread([raw = w.get()] { raw->Loop(); });
  struct sigaction sa {};
  sa.sa_handler = OnHangup;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  if (sigaction(SIGHUP, &sa, &w->previous_) != 0) {
    return Status::IoError(std::string("SIGHUP watcher: sigaction: ") + std::strerror(errno));
  }
  return w;
}

void HangupWatcher::Loop() {
  for (;;) {
    char c = 0;
    const ssize_t n = read(pipe_[0], &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || c == kQuit) return;
    on_hangup_();
  }
}

HangupWatcher::~HangupWatcher() {
  if (pipe_[1] >= 0) {
    sigaction(SIGHUP, &previous_, nullptr);
    g_hangup_fd.store(-1);
    // Blocking for this one: a full pipe must not lose the quit.
    fcntl(pipe_[1], F_SETFL, 0);
    while (write(pipe_[1], &kQuit, 1) < 0 && errno == EINTR) {
    }
  }
  if (thread_.joinable()) thread_.join();
  for (int fd : pipe_) {
    if (fd >= 0) close(fd);
  }
}

}  // namespace leadscore::cli
