#include "engine/timer_queue.h"

#include <algorithm>
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
  if (due == e.queued_due) return;  // its entry is still in the heap
  e.queued_due = due;
  heap_.push_back({due, id, kind});
  SiftUp(heap_.size() - 1);
  if (heap_.size() > 2 * live_ + 4096) Compact();
}

bool TimerQueue::PopDue(int64_t now, Timer* out) {
  while (!heap_.empty() && heap_.front().due <= now) {
    const Timer t = heap_.front();
    PopTop();
    EntityCommon* e = table_.Find(t.kind, t.id);
    if (e && e->queued_due == t.due) e->queued_due = kNever;  // popped: a check at t.due is pushed again
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
  for (EntityKind kind : {EntityKind::kLead, EntityKind::kAccount}) {
    table_.ForEachLoaded(kind, [&](EntityId id, EntityCommon& e) {
      e.queued_due = e.due;
      if (e.due != kNever) live.push_back({e.due, id, kind});
    });
  }
  heap_ = std::move(live);
  for (size_t i = heap_.size() / kArity + 1; i-- > 0;) SiftDown(i);
}

void TimerQueue::SiftUp(size_t i) {
  const Timer t = heap_[i];
  while (i > 0) {
    const size_t parent = (i - 1) / kArity;
    if (!(t < heap_[parent])) break;
    heap_[i] = heap_[parent];
    i = parent;
  }
  heap_[i] = t;
}

void TimerQueue::SiftDown(size_t i) {
  const size_t n = heap_.size();
  if (i >= n) return;
  const Timer t = heap_[i];
  for (;;) {
    const size_t first = kArity * i + 1;
    if (first >= n) break;
    size_t least = first;
    const size_t end = std::min(first + kArity, n);
    for (size_t c = first + 1; c < end; ++c) {
      if (heap_[c] < heap_[least]) least = c;
    }
    if (!(heap_[least] < t)) break;
    heap_[i] = heap_[least];
    i = least;
  }
  heap_[i] = t;
}

void TimerQueue::PopTop() {
  heap_.front() = heap_.back();
  heap_.pop_back();
  if (!heap_.empty()) SiftDown(0);
}

}  // namespace leadscore::engine
