// One batch over a set of partition tasks, on a worker pool: the service's loop and the
// benchmarks run the same two phases through here. Phase one scores every task's
// records (Process); between the phases the caller deals with what was refused (the
// service sends dead letters and waits for them); phase two makes every task's part
// durable (Commit). Tasks run in parallel, each on one worker at a time.
//
// Merged writes: phase two need not follow every phase one. PendingCommits gathers what
// several batches' phase one left (offsets, routing events, counts) while the tasks
// keep the entities those batches changed in memory, changed; its CommitAll then makes
// all of it durable in one write per task, so an entity changed by many batches is
// written once. Until that commit nothing of those batches is durable or published.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <optional>
#include <vector>

#include "common/status.h"
#include "stream/partition_task.h"
#include "stream/worker_pool.h"

namespace leadscore::stream {

// One task's share of a batch.
struct TaskWork {
  std::shared_ptr<PartitionTask> task{};
  std::vector<InputRecord> records{};
  std::map<std::string, int64_t> next_offsets{};  // topic -> offset after its last record here
  BatchOutcome outcome{};
  Status status{};
};

// Phase one: every task's Process at clock `now` (none: records' own times); the first error, if any.
Status ProcessAll(WorkerPool& pool, std::vector<TaskWork>& work, std::optional<int64_t> now);
// Phase two: every task's Commit; the first error, if any.
Status CommitAll(WorkerPool& pool, std::vector<TaskWork>& work);

// What processed batches left for their commit, per task, until CommitAll.
class PendingCommits {
 public:
  // A batch's phase one is done: its tasks' offsets (the later ones win), routing events
  // (in order) and counts join what is pending; `work` is left without them.
  void Add(std::vector<TaskWork>& work);
  // Phase two for everything added since the last commit: one Commit per task with the
  // merged offsets and events. Then empty, unless it failed (the tasks must not go on).
  Status CommitAll(WorkerPool& pool);
  // The outcomes of the batches the last CommitAll made durable (for metrics), in order.
  std::vector<BatchOutcome> TakeCommitted() { return std::move(committed_); }

  bool empty() const { return tasks_.empty(); }
  size_t batches() const { return batches_; }
  size_t records() const { return records_; }
  size_t bytes() const { return bytes_; }  // of the records' values
  bool has(int32_t partition) const { return tasks_.count(partition) > 0; }

 private:
  struct Pending {
    std::shared_ptr<PartitionTask> task;
    std::map<std::string, int64_t> next_offsets;
    std::vector<BatchOutcome> outcomes;
  };
  std::map<int32_t, Pending> tasks_;  // by partition
  std::vector<BatchOutcome> committed_;
  size_t batches_ = 0, records_ = 0, bytes_ = 0;
};

// The partition librdkafka's default partitioner (consistent_random: CRC32 of the key)
// gives `key` among `partitions`: where a producer with default settings puts it.
int32_t DefaultPartition(std::string_view key, int32_t partitions);

}  // namespace leadscore::stream
