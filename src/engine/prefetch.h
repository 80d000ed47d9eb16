// Prefetch hints: ask the caches for memory that is about to be read. A hint changes
// no result; a wrong one costs a little bandwidth.
#pragma once

#include <cstddef>
#include <cstdint>

namespace leadscore::engine {

inline constexpr uintptr_t kCacheLine = 64;

// Every cache line of [p, p + bytes), from the line `p` starts in (a record in a pool
// of records rarely starts at the beginning of one).
inline void PrefetchLines(const void* p, size_t bytes) {
  if (bytes == 0) return;
  const uintptr_t end = reinterpret_cast<uintptr_t>(p) + bytes;
  for (uintptr_t at = reinterpret_cast<uintptr_t>(p) & ~(kCacheLine - 1); at < end; at += kCacheLine) {
    __builtin_prefetch(reinterpret_cast<const void*>(at));
  }
}

}  // namespace leadscore::engine
