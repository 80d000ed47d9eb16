// SIGHUP reaches the watcher's callback on its thread, and the process lives on.
#include "cli/hangup.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <csignal>
#include <mutex>

namespace leadscore::cli {
namespace {

TEST(HangupWatcherTest, TakesSighupOnItsThreadAndRestoresTheHandlerAfter) {
  std::mutex mu;
  std::condition_variable cv;
  int hangups = 0;
  {
    auto w = HangupWatcher::Install([&] {
      std::lock_guard lock(mu);
      ++hangups;
      cv.notify_all();
    });
    ASSERT_TRUE(w.ok()) << w.status().message();
    EXPECT_FALSE(HangupWatcher::Install([] {}).ok()) << "one at a time";
    for (int i = 1; i <= 3; ++i) {
      ASSERT_EQ(std::raise(SIGHUP), 0);  // without the watcher: the test binary ends here
      std::unique_lock lock(mu);
      ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return hangups == i; })) << "hangup " << i;
    }
  }
  struct sigaction now {};
  ASSERT_EQ(sigaction(SIGHUP, nullptr, &now), 0);
  EXPECT_EQ(now.sa_handler, SIG_DFL) << "the previous disposition is back";
  auto again = HangupWatcher::Install([] {});
  EXPECT_TRUE(again.ok()) << "a new one can be installed once the last is gone";
}

}  // namespace
}  // namespace leadscore::cli
