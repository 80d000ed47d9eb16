// Small measurements shared by the benches (figures the README quotes).
#pragma once

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <span>
#include <string>
#include <vector>

#include "engine/engine.h"

namespace leadscore::bench {

// A field of /proc/self/status in KiB ("VmRSS:", "VmHWM:"); 0 when absent.
inline long ProcStatusKb(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field, 0) == 0) return std::atol(line.c_str() + std::strlen(field) + 1);
  }
  return 0;
}

// Bytes of the regular files under `dir` (a RocksDB's size on disk).
inline uint64_t DirBytes(const std::string& dir) {
  uint64_t n = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) n += e.file_size();
  }
  return n;
}

// Applies a batch of inputs as a partition task does (PartitionTask::Process): each
// after the prefetch hints for the ones that follow it within the batch.
inline void ApplyAsATask(engine::Engine& eng, std::span<const engine::Input> batch,
                         std::vector<engine::RoutingEvent>* out) {
  for (size_t i = 0; i < batch.size(); ++i) {
    eng.Prefetch(batch, i);
    eng.Apply(batch[i], out);
  }
}

}  // namespace leadscore::bench
