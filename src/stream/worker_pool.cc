#include "stream/worker_pool.h"

#include <algorithm>

namespace leadscore::stream {

WorkerPool::WorkerPool(size_t threads) {
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  for (size_t i = 1; i < threads; ++i) workers_.emplace_back([this] { Work(); });
}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

bool WorkerPool::TakeAndRun() {
  size_t i;
  const std::function<void(size_t)>* job;
  {
    std::lock_guard lock(mu_);
    if (!job_ || next_ >= total_) return false;
    i = next_++;
    job = job_;
  }
  (*job)(i);
  {
    std::lock_guard lock(mu_);
    if (++finished_ == total_) done_.notify_all();
  }
  return true;
}

void WorkerPool::Work() {
  for (;;) {
    {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [this] { return stop_ || (job_ && next_ < total_); });
      if (stop_) return;
    }
    while (TakeAndRun()) {
    }
  }
}

void WorkerPool::Run(size_t n, const std::function<void(size_t)>& job) {
  if (n == 0) return;
  if (workers_.empty() || n == 1) {
    for (size_t i = 0; i < n; ++i) job(i);
    return;
  }
  {
    std::lock_guard lock(mu_);
    job_ = &job;
    next_ = 0;
    total_ = n;
    finished_ = 0;
  }
  wake_.notify_all();
  while (TakeAndRun()) {
  }
  std::unique_lock lock(mu_);
  done_.wait(lock, [this] { return finished_ == total_; });
  job_ = nullptr;
}

}  // namespace leadscore::stream
