// What the long-running commands share: the wall clock, a stop flag set by SIGTERM /
// SIGINT, and the topics a default configuration uses. Internal to src/cli/.
#pragma once

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <string>
#include <vector>

#include "stream/options.h"

namespace leadscore::cli {

inline int64_t WallClockMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Set by SIGTERM / SIGINT once InstallStopHandlers() ran; the handler only sets it.
inline std::atomic<bool> g_stop_requested{false};
extern "C" inline void OnStopSignal(int) { g_stop_requested.store(true); }
inline void InstallStopHandlers() {
  std::signal(SIGTERM, OnStopSignal);
  std::signal(SIGINT, OnStopSignal);
}

// Inputs, output and dead letters of a service configuration, to create them.
inline std::vector<std::string> TopicsOf(const stream::ServiceOptions& o) {
  std::vector<std::string> topics;
  for (const auto& in : o.inputs) topics.push_back(in.name);
  topics.push_back(o.output_topic);
  topics.push_back(o.dlq_topic);
  topics.push_back(o.changelog());
  topics.push_back(o.handoff());
  return topics;
}

}  // namespace leadscore::cli
