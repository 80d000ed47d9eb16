// The scoring model (SPEC.md section 3): loaded from YAML, validated strictly, and
// compiled so that nothing on the hot path looks a field up by its name.
//
// A Model is immutable once loaded and is shared read-only between threads
// (std::shared_ptr<const Model>); a new model file produces a new Model.
#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/time_units.h"
#include "model/condition.h"

namespace leadscore::model {

constexpr double kNoCap = std::numeric_limits<double>::infinity();

struct Signal {
  std::string name;
  double points = 0;
  Duration half_life;
  double cap = kNoCap;          // lead-level cap on the decayed sum
  double account_cap = kNoCap;  // account-level cap (default 2x the lead cap)
  std::vector<uint16_t> multipliers;  // indices of the multipliers that may apply to it
};

struct Multiplier {
  ConditionSet when;
  double factor = 1;
  bool all_signals = true;  // no `signals:` list given
};

struct FitRule {
  std::string name;
  ConditionSet when;
  double points = 0;
  bool account_only = false;  // names only account.* fields: counts for account fit
};

struct DisqualifyRule {
  std::string name;
  ConditionSet when;
  bool account_only = false;  // names only account.* fields: disqualifies the account too
};

struct Grade {
  std::string name;
  double min_fit = 0;
};

// A minimum is "set" when present in the model; unset minimums always hold.
struct Tier {
  std::string name;
  std::optional<double> min_score, min_fit, min_intent;
  std::optional<int32_t> min_engaged_contacts, min_roles;  // accounts only
  std::optional<Duration> sla;
  std::string action;
  std::string feedback;
};

struct EntityPolicy {
  double fit_weight = 0, intent_weight = 0, committee_weight = 0;
  double hysteresis = 0;
  std::vector<Tier> tiers;  // highest first; the last one has no minimums
};

struct Committee {
  std::vector<std::string> roles;  // in model order
  std::vector<double> weights;
  double total_weight = 0;
  double role_min_intent = 0;
  int64_t contact_window_ms = 30 * kMsPerDay;
  std::vector<int8_t> role_of_symbol;  // symbol id -> role index, -1 when not a role
  int RoleOf(const FieldValue& role) const {
    return role.present && role.symbol >= 0 && role.symbol < static_cast<int>(role_of_symbol.size())
               ? role_of_symbol[role.symbol]
               : -1;
  }
};

// Traffic that is not a person's interest, dropped before scoring and counted per
// filter (`skipped` reason "filter:NAME"). A `when` filter drops every event matching
// its conditions (event.attributes.* included). A `burst` filter holds a lead's events
// for `within` of stream time before scoring them: events of the lead less than
// `within` apart form a run, and a run of `events` or more is dropped whole.
struct Filter {
  std::string name;
  ConditionSet when;              // a `when` filter
  bool burst = false;             // a `burst` filter: the two numbers below
  int32_t burst_events = 0;       // a run this long or longer is dropped
  int64_t burst_within_ms = 0;    // how far apart events of a run may be, and how long they are held
};

// SalesOutcome.Kind names by their number on the wire (leadscore.v1, SPEC section 2).
inline constexpr std::array<std::string_view, 6> kOutcomeKindNames = {
    "KIND_UNSPECIFIED", "ACCEPTED", "REJECTED", "OPPORTUNITY_CREATED", "CLOSED_WON", "CLOSED_LOST"};

// The `feedback` section: what sales outcomes do to routing. Loaded and validated with
// the model; acting on it belongs to the handling of outcomes.
struct Feedback {
  std::array<int64_t, kOutcomeKindNames.size()> suppress_ms{};  // by kind number; 0: no suppression
  std::vector<std::pair<int, Signal>> signals;  // (kind number, scored like an event of this signal)
};

struct Model {
  std::string version;        // label + "+" + short content hash (or just the hash)
  std::string version_label;  // the optional `version:` of the file
  // MIGRATION: the version leadscore 0.1.0 computed for the same file (its hash missed
  // most numbers). State stored under it is accepted as this model's (see
  // PartitionTask::Resume) and written back under `version`. Never published.
  std::string legacy_version;

  Symbols symbols;
  FieldLayout layout;

  std::vector<Signal> signals;
  std::unordered_map<std::string, uint16_t, TextHash, std::equal_to<>> signal_by_name;  // used when decoding only
  std::vector<Multiplier> multipliers;
  std::vector<FitRule> fit_rules;
  std::vector<DisqualifyRule> disqualify;
  std::vector<Grade> grades;  // highest first; below the last is "F"
  EntityPolicy lead;
  EntityPolicy account;
  Committee committee;
  std::vector<Filter> filters;  // in model order: the first matching `when` filter counts the drop
  int burst_filter = -1;        // index of the burst filter in `filters`, -1 when none (at most one)
  Feedback feedback;

  const std::string& GradeOf(double fit) const;
  std::optional<uint16_t> SignalIndex(std::string_view name) const;
};

struct Problem {
  int line = 0;  // 1-based; 0 when the problem is not tied to a line
  std::string message;
  std::string ToString() const;
};

struct LoadResult {
  std::shared_ptr<const Model> model;  // null when there are problems
  std::vector<Problem> problems;       // every problem found, in file order
  std::vector<Problem> warnings;       // legal but suspicious: a tier no one can reach
  bool ok() const { return model != nullptr; }
  std::string ErrorText() const;  // one problem per line
};

LoadResult LoadModelFromString(std::string_view yaml);
LoadResult LoadModelFromFile(const std::string& path);

}  // namespace leadscore::model
