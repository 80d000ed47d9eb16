// The pending decay checks, in time order. Internal to src/engine/; one per Engine,
// not thread-safe.
//
// An entity has at most one pending check, its `due` (kNever: none). Moving or
// dropping a check leaves its old heap entry behind rather than searching the heap for
// it (lazy deletion): an entry whose due no longer matches its entity's is skipped when
// it comes up, and the heap is rebuilt from the entities once stale entries outnumber
// live ones. Equal times break by kind, then id, so the order of checks, and of the
// routing events they cause, never depends on the heap's history.
//
// A check moved back to the due of the entity's newest entry still in the heap (its
// `queued_due`: a burst run's end came first, then the decay check it had before) is
// not pushed again: that entry is live once more.
//
// The heap is 4-ary in a flat vector: a node's four children (16 B each) lie side by
// side, and the tree is half as deep as a binary heap's, so a push (most are the
// nearest check: a burst run's end, which rises to the top) and a pop touch about half
// the cache lines in a heap of a million entries.
#pragma once

#include <cstddef>
#include <cstdint>
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
  void Schedule(EntityKind kind, EntityId id, int64_t due);
  // The entity is leaving the table (evicted or forgotten) with whatever check it had.
  void Drop(const EntityCommon& e) {
    if (e.due != kNever) --live_;
  }
  // Takes the earliest check due at or before `now` and clears it on its entity; false
  // when none is due.
  bool PopDue(int64_t now, Timer* out);
  // No check is due before this (kNever: none pending). A lower bound: the top entry
  // may be one a reschedule left behind, which only wakes the caller early.
  int64_t EarliestDue() const { return heap_.empty() ? kNever : heap_.front().due; }

 private:
  void Compact();
  void SiftUp(size_t i);
  void SiftDown(size_t i);
  void PopTop();

  static constexpr size_t kArity = 4;
  EntityTable& table_;
  std::vector<Timer> heap_;  // heap_[0] earliest; children of i: kArity * i + 1 ...
  size_t live_ = 0;  // entities with a check pending
};

}  // namespace leadscore::engine
