// One batch over a set of partition tasks, on a worker pool: the service's loop and the
// benchmarks run the same two phases through here. Phase one scores every task's
// records (Process); between the phases the caller deals with what was refused (the
// service sends dead letters and waits for them); phase two makes every task's part
// durable (Commit). Tasks run in parallel, each on one worker at a time.
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

// The partition librdkafka's default partitioner (consistent_random: CRC32 of the key)
// gives `key` among `partitions`: where a producer with default settings puts it.
int32_t DefaultPartition(std::string_view key, int32_t partitions);

}  // namespace leadscore::stream
