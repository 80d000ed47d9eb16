#include "stream/task_batch.h"

#include <librdkafka/rdkafka.h>

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

int32_t DefaultPartition(std::string_view key, int32_t partitions) {
  // The topic handle is not used by this partitioner.
  return rd_kafka_msg_partitioner_consistent(nullptr, key.data(), key.size(), partitions, nullptr, nullptr);
}

}  // namespace leadscore::stream
