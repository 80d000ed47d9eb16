// `leadscore replay`: JSON lines of Input in, JSON lines of RoutingEvent out, through
// the same decode -> engine -> encode path the streaming service uses. No Kafka, no
// state directory.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/engine.h"

namespace leadscore::cli {

struct ReplayOptions {
  std::optional<int64_t> until_ms;  // go on decaying to this time after the last record
  bool text = false;                // one readable line per routing event instead of JSON
  engine::EngineOptions engine;
};

struct ReplaySummary {
  uint64_t lines = 0;
  uint64_t bad_lines = 0;
  engine::EngineStats stats;
  std::vector<uint64_t> filtered;  // events dropped, by the model's filter index
  uint64_t held_at_end = 0;        // events the burst filter still held when the replay ended
  uint64_t routed = 0;
};

// "2026-10-22 09:00 LEAD acme-ana high -> very_high UP | fit 70 ...": for people.
std::string ReadableLine(const engine::RoutingEvent& ev);

// One line per routing event, for the demo's running log.
std::string OneLine(const engine::RoutingEvent& ev);

// Bad lines are reported on `errors` with their line number and skipped.
ReplaySummary Replay(std::shared_ptr<const model::Model> model, std::istream& in, std::ostream& out,
                     std::ostream& errors, const ReplayOptions& options);

}  // namespace leadscore::cli
