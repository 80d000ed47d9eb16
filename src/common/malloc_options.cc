// jemalloc's options, compiled into every program that takes it as its malloc
// (`leadscore_malloc`, src/CMakeLists.txt); MALLOC_CONF in the environment overrides
// them (MALLOC_CONF=thp:always puts the whole heap in transparent huge pages).
//
// thp:default: the pages as the kernel's setting has them (on Debian's `madvise`, 4 KiB
// pages for the heap). Huge pages everywhere (thp:always, the setting until
// 2026-12-06, evening) made the engine step faster at 1 M leads: an event reads a dozen
// places in a GiB of heap, and 4 KiB pages miss the TLB (alternated pairs then: +10..25 %;
// the full runs' engine row 428-504 k events/s before, 292-375 k after; pairs of the
// row alone now: within the spread). But every fault on fresh memory zeroed a whole
// 2 MiB page, and since the consumers prefetch up to 64 MiB of records
// (stream/kafka_handle.h) the service takes much fresh memory as it runs: the
// end-to-end row alone, in a fresh process, spent 4.6-5.6 s of system time against
// 0.6-0.8 s with 4 KiB pages, and read 76-98 k records/s against 133-187 k; restore
// and re-evaluation also ran faster (bench/HISTORY.md:
// "2026-12-06, evening"). The service's own paths keep the kernel's pages.
#include <jemalloc/jemalloc.h>  // declares it: exported, C linkage

const char* malloc_conf = "thp:default";  // read by jemalloc as it starts (the library's is a weak default)
