// Explanations: the factors behind a score, largest |points| first. Fit rules count
// with their points, signals with their decayed points after the cap; below 0.01
// points a contributor is not listed (SPEC section 2). Internal.
#pragma once

#include <cstddef>
#include <vector>

#include "engine/state.h"

namespace leadscore::engine {

std::vector<Factor> LeadFactors(const model::Model& m, const LeadState& lead, const AccountState* account,
                                size_t limit);
std::vector<Factor> AccountFactors(const model::Model& m, const AccountState& account, size_t limit);

}  // namespace leadscore::engine
