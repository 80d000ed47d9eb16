// `leadscore export`: the records of any leadscore topic as JSON lines, so production
// history can feed `replay`, `backtest` and `report`. Inputs (protobuf or JSON) become
// the JSON lines of Input that `replay` reads, routing events the JSON lines it writes;
// a dead letter (a record with an `error` header) becomes one line
// {"dead_letter": {"headers": {...}, "key": ..., "input": {...} | "value_base64": ...}}.
// Bounded: reads what is on the topic when it starts, up to its end, and returns.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>

#include "common/status.h"

namespace leadscore::cli {

struct ExportOptions {
  std::string brokers;
  std::string topic;
  // Only records whose Kafka timestamp is at or after this (Unix ms); nullopt: all, from
  // the beginning of what the topic retains.
  std::optional<int64_t> from_time_ms;
  int timeout_ms = 30000;  // metadata, and reading to the end
};

struct ExportSummary {
  uint64_t inputs = 0, routing_events = 0, dead_letters = 0;
  uint64_t unreadable = 0;  // neither Input nor RoutingEvent, outside the DLQ: reported, skipped
};

// Lines go to `out` in Kafka timestamp order across partitions (partition, offset for
// ties), so `replay` sees one timeline; problems with a record go to `errors` with its
// coordinates. An error: the broker or the topic could not be read.
Result<ExportSummary> Export(const ExportOptions& options, std::ostream& out, std::ostream& errors);

}  // namespace leadscore::cli
