// The pending decay checks, in time order. Internal to src/engine/; one per Engine,
// not thread-safe.
//
// An entity has at most one pending check, its `due` (kNever: none). Moving or
// dropping a check leaves its old entry (in the heap or the lane, below) behind rather
// than searching for it (lazy deletion): an entry whose due no longer matches its
// entity's is skipped when it comes up, and once stale entries outnumber live ones the
// heap is rebuilt from the entities and the lane emptied. Equal times break by kind,
// then id, so the order of checks, and of the routing events they cause, never depends
// on the queue's history.
//
// A check moved back to a due whose entry is still queued is pushed again: the first
// of the two to come up is taken and the other skipped. (An entity kept the due of its
// newest entry to spare that push; in engine_bench no push was spared, and it took
// 8 B of every record.)
//
// The heap is 4-ary in a flat vector: a node's four children (16 B each) lie side by
// side, and the tree is half as deep as a binary heap's, so a push and a pop touch
// about half the cache lines in a heap of a million entries.
//
// Beside the heap, a lane in arrival order: a burst run's end is stream time plus the
// filter's hold, so the ends almost always come in time order. They were most of the
// pushes, each rising to the top of the heap and taken from it with a sift down through
// every level; in the lane a push and a pop are a step at either end (engine_bench:
// +5..8 % at 32 k leads, records in cache; about even at 1 M leads, where the misses
// are elsewhere). The lane is in time order; the entries of one time are put in kind
// and id order when they reach its front. A check earlier than the lane's last goes to
// the heap, and PopDue takes the earlier of the two fronts in the same order (time,
// kind, id), so the checks come in the order a heap alone gives.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <vector>

#include "engine/entity_table.h"

namespace leadscore::engine {

struct Timer {
  int64_t due;
  EntityId id;
  EntityKind kind;
  bool operator<(const Timer& o) const {
    if (due != o.due) return due < o.due;
    if (kind != o.kind) return kind < o.kind;
    return id < o.id;
  }
};

class TimerQueue {
 public:
  explicit TimerQueue(EntityTable& table) : table_(table) {}

  // Sets the loaded entity's next check (kNever: none). A check that differs from the
  // one in the store's timer index lists the entity for TakeChanges, so the index follows.
  void Schedule(EntityKind kind, EntityId id, int64_t due) { Set(kind, id, due, false); }
  // As Schedule, for an entity just read from the store with the check its timer index
  // has (`stored_due`, kNever: none): listed for TakeChanges only if `due` differs.
  void ScheduleLoaded(EntityKind kind, EntityId id, int64_t due, int64_t stored_due);
  // As Schedule, for a check expected no earlier than any set this way before (a burst
  // run's end): it queues in the lane when that holds, in the heap when not.
  void ScheduleInOrder(EntityKind kind, EntityId id, int64_t due) { Set(kind, id, due, true); }
  // The entity is leaving the table (evicted or forgotten) with whatever check it had.
  void Drop(const EntityCommon& e) {
    if (e.due != kNever) --live_;
  }
  // Takes the earliest check due at or before `now` and clears it on its entity; false
  // when none is due.
  bool PopDue(int64_t now, Timer* out);
  // No check is due before this (kNever: none pending). A lower bound: either front
  // may be an entry a reschedule left behind, which only wakes the caller early.
  int64_t EarliestDue() const {
    const int64_t lane = lane_.empty() ? kNever : lane_.front().due;
    return heap_.empty() ? lane : std::min(lane, heap_.front().due);
  }

 private:
  void Set(EntityKind kind, EntityId id, int64_t due, bool in_order);
  // The entity's check moved to `due`, queued (it is listed for TakeChanges already,
  // or the move does not change what the store has).
  void Move(EntityKind kind, EntityId id, EntityCommon& e, int64_t due, bool in_order);
  // Into the lane if it stays in time order; false: it belongs in the heap.
  bool Append(const Timer& t);
  // Puts the entries at the lane's front time in order (time, kind, id), unless they are.
  void OrderLaneFront();
  // The earliest entry of the two, removed; false when neither has one due by `now`.
  bool TakeFront(int64_t now, Timer* out);
  void Compact();
  void SiftUp(size_t i);
  void SiftDown(size_t i);
  void PopTop();

  static constexpr size_t kArity = 4;
  EntityTable& table_;
  std::vector<Timer> heap_;  // heap_[0] earliest; children of i: kArity * i + 1 ...
  std::deque<Timer> lane_;   // in time order: front earliest
  size_t lane_ordered_ = 0;  // the lane's first entries, all at its front time, in order (0: not yet ordered)
  size_t live_ = 0;  // entities with a check pending
};

}  // namespace leadscore::engine
