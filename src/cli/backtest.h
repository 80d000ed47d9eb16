// `leadscore backtest`: the same JSON-lines history through two models (the baseline,
// by default the draft itself, and the draft), each through the replay loop (one
// PartitionTask, the service's scoring path), compared side by side: routing volume per
// tier and direction, the matrix of final tiers (baseline x draft) for leads and
// accounts, the entities whose final tier differs, and, when the history holds sales
// outcomes, conversion per tier (won / routed) under each model.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "model/model.h"

namespace leadscore::cli {

// One model's run.
struct BacktestSide {
  std::string model_version;
  // entity -> the model's tiers, highest first, then `suppressed` and `disqualified`
  std::map<std::string, std::vector<std::string>> tiers;
  // entity ("lead" | "account") -> to_tier -> direction ("up" | "down") -> routing events
  std::map<std::string, std::map<std::string, std::map<std::string, uint64_t>>> volume;
  // entity -> id -> final tier
  std::map<std::string, std::map<std::string, std::string>> final_tier;
  // entity -> tier -> UP routing events into it, and those answered by CLOSED_WON
  struct Conversion {
    uint64_t routed = 0, won = 0;
  };
  std::map<std::string, std::map<std::string, Conversion>> conversion;
  uint64_t outcomes_unmatched = 0;  // answered no routing event of this run
  uint64_t routed = 0;
};

struct BacktestResult {
  BacktestSide baseline, draft;
  // entity -> baseline tier -> draft tier -> entities ("-": the entity is not in that run)
  std::map<std::string, std::map<std::string, std::map<std::string, uint64_t>>> matrix;
  std::map<std::string, uint64_t> changed;  // entity -> entities whose final tier differs
  uint64_t outcomes = 0;                    // SalesOutcome records in the history
  uint64_t lines = 0, bad_lines = 0;
};

struct BacktestOptions {
  std::optional<int64_t> until_ms;  // decay on to this time after the last record, in both runs
};

// `history` is the JSON lines of Input; bad lines are reported on `errors` (once per run).
BacktestResult Backtest(std::shared_ptr<const model::Model> baseline, std::shared_ptr<const model::Model> draft,
                        const std::string& history, std::ostream& errors, const BacktestOptions& options);

// The three faces of a result: a readable table, JSON (nlohmann), a self-contained page.
std::string BacktestText(const BacktestResult& r);
std::string BacktestJson(const BacktestResult& r);
std::string BacktestHtml(const BacktestResult& r);

}  // namespace leadscore::cli
