// The partitions this instance owns, as tasks. A partition assigned by the consumer
// group becomes a task resumed from the store; a revoked one is dropped with all of
// its per-partition data. Changed only by the service's loop thread (the rebalance
// callback runs inside its poll); read from any thread (views, metrics) as a snapshot
// of shared pointers, so a reader never holds the lock while it works.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/status.h"
#include "model/model.h"
#include "store/state_store.h"
#include "stream/options.h"
#include "stream/partition_task.h"

namespace leadscore::stream {

class Assignment {
 public:
  Assignment(std::shared_ptr<const model::Model> model, TaskOptions options, store::StateStore* store,
             size_t cache_entities, size_t cache_bytes = 0);

  // A partition joins: its task resumes from the stored state. The offsets to resume
  // from per topic (a topic missing: its start).
  Result<std::map<std::string, int64_t>> Assign(int32_t partition);
  void Revoke(int32_t partition);

  std::shared_ptr<PartitionTask> Find(int32_t partition) const;
  std::vector<std::shared_ptr<PartitionTask>> Tasks() const;  // in partition order
  bool empty() const;

  // The model a partition assigned from now on resumes under (a model change).
  void SetModel(std::shared_ptr<const model::Model> model);

  // Tests: set on every task, present and future.
  void set_mid_batch_hook(MidBatchHook hook);
  void set_reevaluation_hook(ReevaluationHook hook);

 private:
  void ShareCache();  // mu_ held: the hot set is split evenly over the tasks

  std::shared_ptr<const model::Model> model_;
  TaskOptions options_;
  store::StateStore* store_;
  size_t cache_entities_, cache_bytes_;
  mutable std::mutex mu_;
  std::map<int32_t, std::shared_ptr<PartitionTask>> tasks_;
  MidBatchHook mid_batch_hook_;
  ReevaluationHook reevaluation_hook_;
};

}  // namespace leadscore::stream
