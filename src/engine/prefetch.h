// Prefetch hints: ask the caches for memory that is about to be read. A hint changes
// no result; a wrong one costs a little bandwidth. And reads ahead (LoadLines), for
// memory a hint does not bring in (see Engine::Prefetch).
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

// How much of a list is asked for or read ahead: its first elements, up to eight
// lines. A longer list (a large account's contacts, a lead's dedupe ids) is read a few
// entries at a time anyway.
inline constexpr size_t kElementsAheadBytes = 8 * kCacheLine;

template <typename T>
void PrefetchElements(const std::vector<T>& v) {
  PrefetchLines(v.data(), std::min(v.size() * sizeof(T), kElementsAheadBytes));
}

// Reads a byte of every cache line [p, p + bytes) reaches into: loads, which the core
// overlaps with the loads around them, where a hint may be dropped. Returns the sum of
// what it read, for the caller to keep (or the compiler may leave the loads out).
inline uint64_t LoadLines(const void* p, size_t bytes) {
  if (bytes == 0) return 0;
  const uintptr_t begin = reinterpret_cast<uintptr_t>(p);
  uint64_t sum = *static_cast<const volatile unsigned char*>(p);
  for (uintptr_t at = (begin & ~(kCacheLine - 1)) + kCacheLine; at < begin + bytes; at += kCacheLine) {
    sum += *reinterpret_cast<const volatile unsigned char*>(at);
  }
  return sum;
}

// A list's first elements read (LoadLines), as much as PrefetchElements hints.
template <typename T>
uint64_t LoadElements(const T* first, size_t n) {
  return LoadLines(first, std::min(n * sizeof(T), kElementsAheadBytes));
}
template <typename T>
uint64_t LoadElements(const std::vector<T>& v) {
  return LoadElements(v.data(), v.size());
}

}  // namespace leadscore::engine
