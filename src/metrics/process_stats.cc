#include "metrics/process_stats.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "metrics/metrics.h"

namespace leadscore::metrics {
namespace {

std::optional<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::optional<double> Number(const std::string& s) {
  try {
    size_t used = 0;
    const double v = std::stod(s, &used);
    return used == s.size() ? std::optional<double>(v) : std::nullopt;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// The fields of /proc/[pid]/stat after "pid (comm) ": the command name may hold spaces
// and parentheses, so the fields start after the last ')'. Field 3 (state) is [0].
std::vector<std::string> StatFields(const std::string& stat) {
  std::vector<std::string> fields;
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return fields;
  std::istringstream in(stat.substr(close + 1));
  for (std::string f; in >> f;) fields.push_back(f);
  return fields;
}

std::optional<double> BootTime(const std::string& proc) {
  auto stat = ReadFile(proc + "/stat");
  if (!stat) return std::nullopt;
  std::istringstream in(*stat);
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("btime ")) return Number(line.substr(6));
  }
  return std::nullopt;
}

std::optional<double> MaxOpenFiles(const std::string& proc) {
  auto limits = ReadFile(proc + "/self/limits");
  if (!limits) return std::nullopt;
  std::istringstream in(*limits);
  for (std::string line; std::getline(in, line);) {
    if (!line.starts_with("Max open files")) continue;
    std::istringstream fields(line.substr(std::string("Max open files").size()));
    std::string soft;
    fields >> soft;
    return soft == "unlimited" ? std::optional<double>(-1) : Number(soft);
  }
  return std::nullopt;
}

}  // namespace

ProcessStats ReadProcessStats(const std::string& proc, long ticks_per_second, long page_bytes) {
  ProcessStats s;
  if (auto stat = ReadFile(proc + "/self/stat")) {
    // proc(5) numbers the fields from 1: utime 14, stime 15, starttime 22, vsize 23, rss 24.
    const std::vector<std::string> f = StatFields(*stat);
    auto field = [&](size_t n) { return f.size() >= n - 2 ? Number(f[n - 3]) : std::nullopt; };
    const auto utime = field(14), stime = field(15), start = field(22), vsize = field(23), rss = field(24);
    if (utime && stime && ticks_per_second > 0) s.cpu_seconds = (*utime + *stime) / ticks_per_second;
    if (vsize) s.virtual_bytes = *vsize;
    if (rss) s.resident_bytes = *rss * page_bytes;
    const auto boot = BootTime(proc);
    if (start && boot && ticks_per_second > 0) s.start_time_seconds = *boot + *start / ticks_per_second;
  }
  std::error_code ec;
  std::filesystem::directory_iterator fds(proc + "/self/fd", ec);
  if (!ec) {
    double n = 0;
    for (auto it = fds; it != std::filesystem::directory_iterator(); it.increment(ec)) {
      if (ec) break;
      ++n;
    }
    if (!ec) s.open_fds = n;
  }
  s.max_fds = MaxOpenFiles(proc);
  return s;
}

void AddProcessMetrics(Registry& registry, const std::string& proc) {
  const long ticks = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
  registry.AddCollector([proc, ticks, page](Collection& out) {
    const ProcessStats s = ReadProcessStats(proc, ticks, page);
    if (s.cpu_seconds) out.Counter("process_cpu_seconds_total", "User and system CPU time spent, in seconds.", *s.cpu_seconds);
    if (s.resident_bytes) out.Gauge("process_resident_memory_bytes", "Resident memory size in bytes.", *s.resident_bytes);
    if (s.virtual_bytes) out.Gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.", *s.virtual_bytes);
    if (s.open_fds) out.Gauge("process_open_fds", "Number of open file descriptors.", *s.open_fds);
    if (s.max_fds) out.Gauge("process_max_fds", "Maximum number of open file descriptors (-1: unlimited).", *s.max_fds);
    if (s.start_time_seconds) {
      out.Gauge("process_start_time_seconds", "Start time of the process since the Unix epoch, in seconds.",
                *s.start_time_seconds);
    }
  });
}

}  // namespace leadscore::metrics
