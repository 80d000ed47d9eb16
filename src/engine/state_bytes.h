// What an entity costs in memory beyond its record: the heap blocks its vectors and
// strings own (capacity, not size, and an allocation header each). An estimate from
// the containers themselves, for sizing the hot set in bytes (`state.cache_mb`);
// checked against the process's resident memory by the engine row of
// bench/pipeline_bench.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "engine/ids.h"
#include "engine/state.h"

namespace leadscore::engine {

template <typename T>
size_t HeapBytesOf(const std::vector<T>& v) {
  return v.capacity() ? v.capacity() * sizeof(T) + IdTable::kAllocationHeader : 0;
}
template <typename T>
size_t HeapBytesOf(const CompactVector<T>& v) {
  return v.BlockBytes() ? v.BlockBytes() + IdTable::kAllocationHeader : 0;
}
inline size_t HeapBytesOf(const ProfileBlock& p) {
  return p.BlockBytes() ? p.BlockBytes() + IdTable::kAllocationHeader : 0;
}
inline size_t HeapBytesOf(const std::string& s) {
  return s.capacity() > IdTable::kInlineChars ? s.capacity() + 1 + IdTable::kAllocationHeader : 0;
}

inline size_t HeapBytes(const EntityHistory& h) {
  size_t bytes = sizeof(EntityHistory) + IdTable::kAllocationHeader + HeapBytesOf(h.recent) +
                 HeapBytesOf(h.outcome_signals) + HeapBytesOf(h.outcomes_seen);
  for (const TierChange& c : h.recent) bytes += HeapBytesOf(c.routing_id);
  return bytes;
}

inline size_t HeapBytes(const EntityCommon& e) {
  size_t bytes = HeapBytesOf(e.signals) + HeapBytesOf(e.profile);
  if (e.has_history()) bytes += HeapBytes(e.history());
  return bytes;
}

inline size_t HeapBytes(const LeadState& l) {
  size_t bytes = HeapBytes(static_cast<const EntityCommon&>(l)) + l.seen.HeapBytes(IdTable::kAllocationHeader) +
                 HeapBytesOf(l.held);
  for (const HeldRun& run : l.held) {
    bytes += HeapBytesOf(run.events);
    for (const HeldEvent& e : run.events) bytes += HeapBytesOf(e.attributes);
  }
  return bytes;
}

inline size_t HeapBytes(const AccountState& a) {
  return HeapBytes(static_cast<const EntityCommon&>(a)) + HeapBytesOf(a.role_values) + HeapBytesOf(a.contacts) +
         HeapBytesOf(a.leads) + HeapBytesOf(a.role_crossing);
}

}  // namespace leadscore::engine
