#include "engine/explain.h"

#include <algorithm>
#include <cmath>

namespace leadscore::engine {
namespace {

void AddSignals(const model::Model& m, const EntityCommon& e, bool account_caps, std::vector<Factor>* out) {
  for (size_t s = 0; s < m.signals.size(); ++s) {
    if (!(e.active >> s & 1)) continue;
    const double cap = account_caps ? m.signals[s].account_cap : m.signals[s].cap;
    const SignalSum& sum = e.Sum(s);
    const double points = std::min(cap, m.signals[s].points * sum.value);
    out->push_back({m.signals[s].name, points, sum.count, sum.last_at_ms});
  }
  // Outcomes scored as signals, under the kind's name (REJECTED), as the model has them.
  for (const auto& [kind, signal] : m.feedback.signals) {
    if (!(e.history().outcome_active >> kind & 1)) continue;
    const SignalSum& sum = e.history().outcome_signals[kind];
    const double points = std::min(account_caps ? signal.account_cap : signal.cap, signal.points * sum.value);
    out->push_back({signal.name, points, sum.count, sum.last_at_ms});
  }
}

// SPEC section 2: contributors with |points| below a hundredth are not listed; a
// signal decayed to almost nothing is no reason to give sales.
constexpr double kFactorFloor = 0.01;

std::vector<Factor> Top(std::vector<Factor> f, size_t limit) {
  std::erase_if(f, [](const Factor& x) { return std::fabs(x.points) < kFactorFloor; });
  std::sort(f.begin(), f.end(), [](const Factor& a, const Factor& b) {
    const double pa = std::fabs(a.points), pb = std::fabs(b.points);
    return pa != pb ? pa > pb : a.name < b.name;
  });
  if (f.size() > limit) f.resize(limit);
  return f;
}

}  // namespace

std::vector<Factor> LeadFactors(const model::Model& m, const LeadState& lead, const AccountState* account,
                                size_t limit) {
  std::vector<Factor> f;
  const model::FieldContext ctx = LeadContext(lead, account);
  for (const auto& r : m.fit_rules) {
    if (r.when.Matches(ctx)) f.push_back({r.name, r.points, 0, 0});
  }
  AddSignals(m, lead, false, &f);
  return Top(std::move(f), limit);
}

std::vector<Factor> AccountFactors(const model::Model& m, const AccountState& account, size_t limit) {
  std::vector<Factor> f;
  const model::FieldContext ctx = AccountContext(account);
  for (const auto& r : m.fit_rules) {
    if (r.account_only && r.when.Matches(ctx)) f.push_back({r.name, r.points, 0, 0});
  }
  AddSignals(m, account, true, &f);
  return Top(std::move(f), limit);
}

}  // namespace leadscore::engine
