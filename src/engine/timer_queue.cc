#include "engine/timer_queue.h"

#include <algorithm>
#include <iterator>
#include <utility>

namespace leadscore::engine {

void TimerQueue::Set(EntityKind kind, EntityId id, int64_t due, bool in_order) {
  EntityCommon& e = *table_.Find(kind, id);
  if (due == e.due) return;
  table_.Mark(kind, id, e);  // before the move: an entity not listed has the store's check (EntityTable::Mark)
  Move(kind, id, e, due, in_order);
}

void TimerQueue::ScheduleLoaded(EntityKind kind, EntityId id, int64_t due, int64_t stored_due) {
  EntityCommon& e = *table_.Find(kind, id);
  if (due != stored_due) table_.Mark(kind, id, e, stored_due);
  Move(kind, id, e, due, false);
}

void TimerQueue::Move(EntityKind kind, EntityId id, EntityCommon& e, int64_t due, bool in_order) {
  if (due == e.due) return;
  if (e.due != kNever) --live_;
  e.due = due;
  if (due == kNever) return;
  ++live_;
  const Timer t{due, id, kind};
  if (!in_order || !Append(t)) {
    heap_.push_back(t);
    SiftUp(heap_.size() - 1);
  }
  if (heap_.size() + lane_.size() > 2 * live_ + 4096) Compact();
}

bool TimerQueue::Append(const Timer& t) {
  if (!lane_.empty() && t.due < lane_.back().due) return false;
  // Equal times are put in order when they reach the front (OrderLaneFront), not here:
  // in engine_bench most of a lane's entries share their time with the one before
  // (runs that ended at one moment of stream time), and keeping them in order as they
  // came walked eight entries an append. Only a time whose entries are already in
  // order at the front, being taken, must not take one that goes among them.
  if (lane_ordered_ > 0 && t.due == lane_.front().due) {
    if (t < lane_.back()) return false;
    ++lane_ordered_;
  }
  lane_.push_back(t);
  return true;
}

void TimerQueue::OrderLaneFront() {
  if (lane_ordered_ > 0 || lane_.empty()) return;
  // The lane is in time order, so the entries at the front's time are the front's run.
  auto end = lane_.begin() + 1;
  while (end != lane_.end() && end->due == lane_.front().due) ++end;
  std::sort(lane_.begin(), end);
  lane_ordered_ = static_cast<size_t>(end - lane_.begin());
}

bool TimerQueue::TakeFront(int64_t now, Timer* out) {
  OrderLaneFront();
  const bool from_lane = !lane_.empty() && (heap_.empty() || lane_.front() < heap_.front());
  if (from_lane) {
    if (lane_.front().due > now) return false;
    *out = lane_.front();
    lane_.pop_front();
    --lane_ordered_;
    return true;
  }
  if (heap_.empty() || heap_.front().due > now) return false;
  *out = heap_.front();
  PopTop();
  return true;
}

bool TimerQueue::PopDue(int64_t now, Timer* out) {
  Timer t;
  while (TakeFront(now, &t)) {
    EntityCommon* e = table_.Find(t.kind, t.id);
    if (!e || e->due != t.due) continue;  // left behind by a reschedule, an eviction or a Forget
    // Listed before its check is cleared, as Set lists it: the store's timer index
    // drops the key when the check is not set again.
    table_.Mark(t.kind, t.id, *e);
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
      if (e.due != kNever) live.push_back({e.due, id, kind});
    });
  }
  heap_ = std::move(live);
  lane_.clear();
  lane_ordered_ = 0;
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
