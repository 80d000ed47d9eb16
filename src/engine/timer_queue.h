// The pending decay checks, in time order. Internal to src/engine/; one per Engine,
// not thread-safe.
//
// An entity has at most one pending check, its `due` (kNever: none). Moving or
// dropping a check leaves its old heap entry behind rather than searching the heap for
// it (lazy deletion): an entry whose due no longer matches its entity's is skipped when
// it comes up, and the heap is rebuilt from the entities once stale entries outnumber
// live ones. Equal times break by kind, then id, so the order of checks, and of the
// routing events they cause, never depends on the heap's history.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <queue>
#include <vector>

#include "engine/entity_table.h"

namespace leadscore::engine {

struct Timer {
  int64_t due;
  EntityId id;
  EntityKind kind;
  bool operator>(const Timer& o) const {
    if (due != o.due) return due > o.due;
    if (kind != o.kind) return kind > o.kind;
    return id > o.id;
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

 private:
  void Compact();

  EntityTable& table_;
  std::priority_queue<Timer, std::vector<Timer>, std::greater<Timer>> heap_;
  size_t live_ = 0;  // entities with a check pending
};

}  // namespace leadscore::engine
