// The replay loop on its own, internal to src/cli: JSON lines of Input through one
// PartitionTask without a store (the service's scoring path), each routing event handed
// to the caller in order. `replay` prints them; `backtest` runs it once per model and
// compares. Not thread-safe (one task, one caller).
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <optional>

#include "engine/engine.h"
#include "stream/partition_task.h"

namespace leadscore::cli {

struct ReplayLoopCounts {
  uint64_t lines = 0;      // read, blank ones included
  uint64_t bad_lines = 0;  // refused, reported on `errors` with their number
};

// What `replay` gives its task: no Kafka keys required, the engine options given.
stream::TaskOptions ReplayTaskOptions(const engine::EngineOptions& engine);

// Reads `in` to its end into `task`, then (with `until_ms`) decays on to that time.
// `totals` gets the batches' counts added (skips, filters, held events).
// `after_chunk`, when given, is called after each chunk of `chunk_lines` lines has been
// processed and its routing events handed on (the task's stream time is then that of
// the chunk's records: `report --suggest` looks at every lead at fixed stream times).
ReplayLoopCounts RunReplayLoop(stream::PartitionTask& task, std::istream& in, std::optional<int64_t> until_ms,
                               std::ostream& errors, const std::function<void(const engine::RoutingEvent&)>& on_event,
                               stream::BatchOutcome* totals, const std::function<void()>& after_chunk = nullptr,
                               size_t chunk_lines = 4096);

}  // namespace leadscore::cli
