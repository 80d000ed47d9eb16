// SIGHUP taken on a thread of its own. The signal handler only writes a byte to a pipe,
// which is all a handler may safely do; the watcher's thread reads it and calls
// `on_hangup` outside signal context, where it may log, lock, or (later) reload the
// model. Without it SIGHUP's default action ends the process. One at a time per
// process; the destructor restores the previous disposition. Internal to src/cli/.
#pragma once

#include <functional>
#include <memory>
#include <thread>

#include <signal.h>

#include "common/status.h"

namespace leadscore::cli {

class HangupWatcher {
 public:
  static Result<std::unique_ptr<HangupWatcher>> Install(std::function<void()> on_hangup);
  ~HangupWatcher();  // restores the previous handler, ends and joins the thread

 private:
  HangupWatcher() = default;
  void Loop();

  std::function<void()> on_hangup_;
  int pipe_[2] = {-1, -1};
  struct sigaction previous_ {};
  std::thread thread_;
};

}  // namespace leadscore::cli
