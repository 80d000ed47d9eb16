// jemalloc's options, compiled into every program that takes it as its malloc
// (`leadscore_malloc`, src/CMakeLists.txt); MALLOC_CONF in the environment overrides
// them (MALLOC_CONF=thp:default leaves the pages as the kernel's setting has them).
//
// thp:always: the heap in transparent huge pages (where the kernel allows them, as
// `madvise` or `always`). An event reads a dozen places in a heap of about a GiB at
// 1 M leads (the index entries, the records and what they own: sums, profile slots,
// dedupe ids, role sums, contacts), each on a page of its own: with 4 KiB pages nearly
// every one missed the TLB, and the prefetch hints arrived late. In 2 MiB pages,
// alternated pairs: engine_bench +10..25 % at 1 M leads, +12..37 % at 32 k; the state
// rows at 2 M leads, end to end and latency at half load within their noise; the quick
// state row (100 k leads) -6 %; RSS +5 % (README, Performance, "2026-12-06"). The
// costs: a fault on a new huge page zeroes 2 MiB, and with the kernel's usual
// `defrag` setting may wait for the kernel to compact memory; freed memory goes back
// to the system less readily.
#include <jemalloc/jemalloc.h>  // declares it: exported, C linkage

const char* malloc_conf = "thp:always";  // read by jemalloc as it starts (the library's is a weak default)
