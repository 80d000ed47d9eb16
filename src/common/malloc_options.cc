// jemalloc's options, compiled into every program that takes it as its malloc
// (`leadscore_malloc`, src/CMakeLists.txt); MALLOC_CONF in the environment overrides
// them (MALLOC_CONF=thp:always puts the whole heap in transparent huge pages).
//
// thp:default: the pages as the kernel's setting has them (on Debian's `madvise`, 4 KiB
// pages for the heap). Huge pages everywhere (thp:always, the setting until
// 2026-12-06) made the engine step faster at 1 M leads (an event reads a dozen places
// in a GiB of heap, and 4 KiB pages miss the TLB: engine_bench +11 % in two pairs, +18 %
// earlier), but every fault on fresh memory zeroed a whole 2 MiB page. Since the
// consumers prefetch up to 64 MiB of records (stream/kafka_handle.h), the service takes
// much fresh memory as it runs: in the end-to-end row the process spent 4.6-5.4 s of
// system time zeroing pages against 0.6 s with 4 KiB pages, and ran at 81-98 k
// records/s against 174-184 k (alternated pairs, README, Performance,
// "2026-12-06, evening"). The service is the end-to-end path: it keeps the kernel's pages.
#include <jemalloc/jemalloc.h>  // declares it: exported, C linkage

const char* malloc_conf = "thp:default";  // read by jemalloc as it starts (the library's is a weak default)
