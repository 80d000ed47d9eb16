#include "stream/task_batch.h"

#include <librdkafka/rdkafka.h>

#include <cstdlib>

namespace leadscore::stream {

namespace {
Status FirstError(const std::vector<TaskWork>& work) {
  for (const auto& w : work) LEADSCORE_RETURN_IF_ERROR(w.status);
  return Status::Ok();
}
}  // namespace

Status ProcessAll(WorkerPool& pool, std::vector<TaskWork>& work, std::optional<int64_t> now) {
  pool.Run(work.size(), [&](size_t i) { work[i].status = work[i].task->Process(work[i].records, now, &work[i].outcome); });
  return FirstError(work);
}

Status CommitAll(WorkerPool& pool, std::vector<TaskWork>& work) {
  pool.Run(work.size(), [&](size_t i) { work[i].status = work[i].task->Commit(work[i].next_offsets, work[i].outcome.events); });
  return FirstError(work);
}

void PendingCommits::Add(std::vector<TaskWork>& work) {
  ++batches_;
  for (TaskWork& w : work) {
    Pending& p = tasks_[w.task->partition()];
    if (p.task && p.task != w.task) std::abort();  // a partition's task replaced with work pending: a caller's bug
    p.task = w.task;
    for (auto& [topic, next] : w.next_offsets) p.next_offsets[topic] = next;
    records_ += w.records.size();
    for (const InputRecord& r : w.records) bytes_ += r.value.size();
    p.outcomes.push_back(std::move(w.outcome));
    w.outcome.Clear();
    w.next_offsets.clear();
  }
}

Status PendingCommits::CommitAll(WorkerPool& pool) {
  std::vector<TaskWork> work;
  work.reserve(tasks_.size());
  for (auto& [partition, p] : tasks_) {
    TaskWork w{.task = p.task, .next_offsets = p.next_offsets};
    size_t n = 0;
    for (const BatchOutcome& o : p.outcomes) n += o.events.size();
    w.outcome.events.reserve(n);
    for (const BatchOutcome& o : p.outcomes) w.outcome.events.insert(w.outcome.events.end(), o.events.begin(), o.events.end());
    work.push_back(std::move(w));
  }
  LEADSCORE_RETURN_IF_ERROR(stream::CommitAll(pool, work));
  committed_.clear();
  for (auto& [partition, p] : tasks_) {
    for (BatchOutcome& o : p.outcomes) committed_.push_back(std::move(o));
  }
  tasks_.clear();
  batches_ = records_ = bytes_ = 0;
  return Status::Ok();
}

int32_t DefaultPartition(std::string_view key, int32_t partitions) {
  // The topic handle is not used by this partitioner.
  return rd_kafka_msg_partitioner_consistent(nullptr, key.data(), key.size(), partitions, nullptr, nullptr);
}

}  // namespace leadscore::stream
