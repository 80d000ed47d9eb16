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
#include <cstdlib>
#include <new>

namespace leadscore {

inline constexpr size_t kHugePageBytes = size_t{2} << 20;

// `bytes` rounded up to whole huge pages, aligned to one, advised as huge; never null
// (std::bad_alloc as operator new). Free with std::free.
inline void* AllocateHugePages(size_t bytes) {
  const size_t rounded = (bytes + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes;
  void* p = std::aligned_alloc(kHugePageBytes, rounded);
  if (!p) throw std::bad_alloc();
  (void)madvise(p, rounded, MADV_HUGEPAGE);  // a hint: without it, 4 KiB pages as before
  return p;
}

}  // namespace leadscore
