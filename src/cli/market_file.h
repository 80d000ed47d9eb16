// `leadscore generate --output F.jsonl`: the synthetic market in simulated time, as the
// demo plays it (profiles, then 6 h steps of events), with what sales answered
// (SalesOutcome records), written as JSON lines of leadscore.v1.Input for `replay`,
// `report` and `backtest`. No Kafka. The same seed gives the same file.
#pragma once

#include <cstdint>
#include <iosfwd>

#include "common/status.h"

namespace leadscore::cli {

struct MarketFileOptions {
  uint32_t accounts = 2000;
  uint64_t seed = 42;
  int weeks = 6;                      // of engagement; buyers ramp up within them, as in the demo
  int64_t start_ms = 1788134400000;   // 2026-08-31 00:00 UTC, a Monday: fixed, so the file is too
  int outcome_weeks = 10;             // sales goes on answering (deals close) this long after
  double buying_share = 0.01;         // accounts that ramp up to a purchase (sim::MarketOptions)
};

// Returns how many records were written.
Result<uint64_t> WriteMarketJsonl(const MarketFileOptions& options, std::ostream& out);

}  // namespace leadscore::cli
