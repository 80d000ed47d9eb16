// Prefetch hints: ask the caches for memory that is about to be read. A hint changes
// no result; a wrong one costs a little bandwidth.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

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

// A vector's first elements, up to eight lines: a longer list (a large account's
// contacts, a lead's dedupe ids) is read a few entries at a time anyway.
template <typename T>
void PrefetchElements(const std::vector<T>& v) {
  PrefetchLines(v.data(), std::min(v.size() * sizeof(T), 8 * kCacheLine));
}

}  // namespace leadscore::engine
