#include "stream/assignment.h"

#include <algorithm>

namespace leadscore::stream {

Assignment::Assignment(std::shared_ptr<const model::Model> model, TaskOptions options, store::StateStore* store,
                       size_t cache_entities, size_t cache_bytes)
    : model_(std::move(model)),
      options_(std::move(options)),
      store_(store),
      cache_entities_(cache_entities),
      cache_bytes_(cache_bytes) {}

Result<std::map<std::string, int64_t>> Assignment::Assign(int32_t partition) {
  std::shared_ptr<const model::Model> model;
  ReevaluationHook reevaluation_hook;
  {
    std::lock_guard lock(mu_);
    model = model_;
    reevaluation_hook = reevaluation_hook_;
  }
  auto task = std::make_shared<PartitionTask>(partition, model, options_, store_);
  if (reevaluation_hook) task->set_reevaluation_hook(reevaluation_hook);
  auto offsets = task->Resume();
  if (!offsets.ok()) return offsets.status();
  if (mid_batch_hook_) task->set_mid_batch_hook(mid_batch_hook_);
  std::lock_guard lock(mu_);
  tasks_[partition] = std::move(task);
  ShareCache();
  return offsets;
}

void Assignment::Revoke(int32_t partition) {
  std::lock_guard lock(mu_);
  tasks_.erase(partition);
  ShareCache();
}

void Assignment::ShareCache() {
  const size_t n = std::max<size_t>(1, tasks_.size());
  for (auto& [p, t] : tasks_) {
    t->set_cache_entities(cache_entities_ / n);
    t->set_cache_bytes(cache_bytes_ / n);
  }
}

std::shared_ptr<PartitionTask> Assignment::Find(int32_t partition) const {
  std::lock_guard lock(mu_);
  auto it = tasks_.find(partition);
  return it == tasks_.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<PartitionTask>> Assignment::Tasks() const {
  std::lock_guard lock(mu_);
  std::vector<std::shared_ptr<PartitionTask>> out;
  out.reserve(tasks_.size());
  for (const auto& [p, t] : tasks_) out.push_back(t);
  return out;
}

bool Assignment::empty() const {
  std::lock_guard lock(mu_);
  return tasks_.empty();
}

void Assignment::SetModel(std::shared_ptr<const model::Model> model) {
  std::lock_guard lock(mu_);
  model_ = std::move(model);
}

void Assignment::set_reevaluation_hook(ReevaluationHook hook) {
  std::lock_guard lock(mu_);
  reevaluation_hook_ = hook;
  for (auto& [p, t] : tasks_) t->set_reevaluation_hook(hook);
}

void Assignment::set_mid_batch_hook(MidBatchHook hook) {
  std::lock_guard lock(mu_);
  mid_batch_hook_ = hook;
  for (auto& [p, t] : tasks_) t->set_mid_batch_hook(hook);
}

}  // namespace leadscore::stream
