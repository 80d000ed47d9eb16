// Tier decisions with hysteresis (SPEC.md section 3, "Tiers") and the reason string
// of a routing event. Pure functions of the policy and the measures.
#pragma once

#include <cstdint>
#include <string>

#include "model/model.h"

namespace leadscore::engine {

constexpr int16_t kDisqualifiedTier = -1;  // below every tier of the policy
// Put there by a sales outcome (the model's feedback.suppress) until it expires: below
// every tier of the policy, above `disqualified`.
constexpr int16_t kSuppressedTier = -2;

// What the tier minimums are checked against, at one instant.
struct Measures {
  double fit = 0, intent = 0, score = 0, coverage = 0;
  int32_t engaged_contacts = 0, engaged_roles = 0;
  uint64_t role_mask = 0;  // engaged roles, bit per committee role
  bool disqualified = false;
  int disqualify_rule = -1;
  bool suppressed = false;        // the entity clock is before suppressed_until
  int64_t suppressed_until = 0;   // when suppressed: the end, and the outcome kind that set it
  int suppressed_by = 0;
};

// All minimums of the tier hold, each point minimum lowered by `relax`.
bool TierHolds(const model::Tier& tier, const Measures& m, double relax);

// The tier the entity moves to from `current` (which may be kDisqualifiedTier or
// kSuppressedTier): disqualified wins over suppressed, suppressed over every tier; out
// of either, to the highest tier whose minimums hold.
int16_t DecideTier(const model::EntityPolicy& policy, int16_t current, const Measures& m);

// "up" when `to` ranks above `from`.
bool RanksAbove(int16_t to, int16_t from);

const std::string& TierName(const model::EntityPolicy& policy, int16_t tier);

// Why the change: the minimums that now hold (up) or that failed (down); for
// suppression, the outcome and until when.
std::string TierReason(const model::Model& model, const model::EntityPolicy& policy, int16_t from, int16_t to,
                       const Measures& m);

// A number for people: one decimal unless more are needed to keep the comparison
// with `threshold` true as printed (59.96 < 60 must not read "60<60").
std::string FormatPoints(double v, double threshold, bool want_at_least);

}  // namespace leadscore::engine
