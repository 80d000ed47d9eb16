#include "engine/timer_queue.h"

#include <utility>

namespace leadscore::engine {

void TimerQueue::Schedule(EntityKind kind, EntityId id, int64_t due) {
  EntityCommon& e = *table_.Find(kind, id);
  if (due == e.due) return;
  if (e.due != kNever) --live_;
  e.due = due;
  if (due != e.persisted_due) table_.Mark(kind, id);
  if (due == kNever) return;
  ++live_;
  heap_.push({due, id, kind});
  if (heap_.size() > 2 * live_ + 4096) Compact();
}

bool TimerQueue::PopDue(int64_t now, Timer* out) {
  while (!heap_.empty() && heap_.top().due <= now) {
    const Timer t = heap_.top();
    heap_.pop();
    EntityCommon* e = table_.Find(t.kind, t.id);
    if (!e || e->due != t.due) continue;  // left behind by a reschedule, an eviction or a Forget
    e->due = kNever;
    --live_;
    *out = t;
    return true;
  }
  return false;
}

void TimerQueue::Compact() {
  std::vector<Timer> live;
  live.reserve(live_);
  const auto& leads = table_.leads();
  const auto& accounts = table_.accounts();
  for (EntityId i = 0; i < leads.size(); ++i) {
    if (leads[i].exists && leads[i].due != kNever) live.push_back({leads[i].due, i, EntityKind::kLead});
  }
  for (EntityId i = 0; i < accounts.size(); ++i) {
    if (accounts[i].exists && accounts[i].due != kNever) live.push_back({accounts[i].due, i, EntityKind::kAccount});
  }
  heap_ = decltype(heap_)(std::greater<Timer>(), std::move(live));
}

}  // namespace leadscore::engine
