// Memory for large arrays that are read at random: in transparent huge pages where the
// kernel offers them for the asking (Debian's default THP setting is `madvise`).
//
// Why: the engine's entity records (engine/record_pool.h) are a GiB at 1 M leads, and
// an event reads a few of them at random. In 4 KiB pages nearly every such read also
// misses the TLB; in 2 MiB pages the page walk is mostly gone. The whole heap in huge
// pages (jemalloc thp:always) cost the service more than it gained, since every fault
// on fresh memory zeroed 2 MiB (src/common/malloc_options.cc); the records are filled
// whole, so their zeroing costs what 4 KiB pages would.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdint>
#include <new>

namespace leadscore {

inline constexpr size_t kHugePageBytes = size_t{2} << 20;

// Whole huge pages, `bytes` rounded up, aligned to one and advised as huge, mapped for
// this use alone: never null (std::bad_alloc as operator new), zero-filled. Free them
// with FreeHugePages and the same `bytes`. Not from malloc: the advice stays with the
// address range, and jemalloc would hand a range freed to it to anything else, whose
// fresh memory would then fault in 2 MiB at a time too.
inline size_t HugePagesFor(size_t bytes) { return (bytes + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes; }

inline void* AllocateHugePages(size_t bytes) {
  const size_t size = HugePagesFor(bytes);
  // One page more than asked, then the ends trimmed, so that what is left is aligned.
  const size_t span = size + kHugePageBytes;
  void* mapped = mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mapped == MAP_FAILED) throw std::bad_alloc();
  const auto at = reinterpret_cast<uintptr_t>(mapped);
  const uintptr_t start = (at + kHugePageBytes - 1) & ~(uintptr_t{kHugePageBytes} - 1);
  if (start > at) munmap(mapped, start - at);
  if (const size_t tail = span - (start - at) - size; tail > 0) munmap(reinterpret_cast<void*>(start + size), tail);
  void* p = reinterpret_cast<void*>(start);
  (void)madvise(p, size, MADV_HUGEPAGE);  // a hint: without it, 4 KiB pages as before
  return p;
}

inline void FreeHugePages(void* p, size_t bytes) { munmap(p, HugePagesFor(bytes)); }

}  // namespace leadscore
