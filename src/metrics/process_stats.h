// What the process_* metrics read from /proc (Linux), on their own so tests can point
// them at a made-up /proc. Internal to src/metrics/. Thread-safe (reads files only).
#pragma once

#include <optional>
#include <string>

namespace leadscore::metrics {

struct ProcessStats {
  std::optional<double> cpu_seconds;        // user + system, /proc/self/stat
  std::optional<double> resident_bytes;     // /proc/self/stat rss × page size
  std::optional<double> virtual_bytes;      // /proc/self/stat vsize
  std::optional<double> start_time_seconds; // Unix: boot time (/proc/stat btime) + starttime
  std::optional<double> open_fds;           // entries of /proc/self/fd
  std::optional<double> max_fds;            // soft "Max open files" of /proc/self/limits
};

// `proc` is the /proc directory; what cannot be read stays empty.
ProcessStats ReadProcessStats(const std::string& proc, long ticks_per_second, long page_bytes);

}  // namespace leadscore::metrics
