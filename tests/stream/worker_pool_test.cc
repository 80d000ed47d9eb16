// The worker pool runs every job of a Run once, on more than one thread when it has
// them, and returns only when all are done.
#include "stream/worker_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <set>
#include <thread>
#include <vector>

namespace leadscore::stream {
namespace {

TEST(WorkerPoolTest, EveryJobRunsOnceAndRunWaitsForAll) {
  WorkerPool pool(2);
  for (int round = 0; round < 50; ++round) {
    std::vector<std::atomic<int>> runs(17);
    pool.Run(runs.size(), [&](size_t i) { ++runs[i]; });
    for (auto& r : runs) EXPECT_EQ(r.load(), 1);
  }
}

// Two jobs that each wait for the other can only finish if they run at once.
TEST(WorkerPoolTest, TwoThreadsRunTwoJobsAtOnce) {
  WorkerPool pool(2);
  ASSERT_EQ(pool.threads(), 2u);
  std::promise<void> a, b;
  std::shared_future<void> fa = a.get_future().share(), fb = b.get_future().share();
  std::set<std::thread::id> threads;
  std::mutex mu;
  pool.Run(2, [&](size_t i) {
    {
      std::lock_guard lock(mu);
      threads.insert(std::this_thread::get_id());
    }
    (i == 0 ? a : b).set_value();
    EXPECT_EQ((i == 0 ? fb : fa).wait_for(std::chrono::seconds(60)), std::future_status::ready);
  });
  EXPECT_EQ(threads.size(), 2u);
}

TEST(WorkerPoolTest, OneThreadRunsInlineOnTheCaller) {
  WorkerPool pool(1);
  std::vector<std::thread::id> ids;
  pool.Run(3, [&](size_t) { ids.push_back(std::this_thread::get_id()); });
  for (const auto& id : ids) EXPECT_EQ(id, std::this_thread::get_id());
}

}  // namespace
}  // namespace leadscore::stream
