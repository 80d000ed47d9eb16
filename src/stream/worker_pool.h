// A small fixed pool of worker threads for the partition tasks of a batch: Run(n, job)
// calls job(0..n-1) spread over the workers and the calling thread, and returns when
// every call has returned. Jobs of one Run never share a task, so they need no locks
// of their own. With one thread, jobs run inline on the caller.
//
// Run is called from one thread at a time (the service's loop).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace leadscore::stream {

class WorkerPool {
 public:
  explicit WorkerPool(size_t threads);  // 0: one per core
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  void Run(size_t n, const std::function<void(size_t)>& job);
  size_t threads() const { return workers_.size() + 1; }

 private:
  void Work();
  bool TakeAndRun();  // mu_ not held; false when nothing was left

  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable wake_, done_;
  const std::function<void(size_t)>* job_ = nullptr;
  size_t next_ = 0, total_ = 0, finished_ = 0;
  bool stop_ = false;
};

}  // namespace leadscore::stream
