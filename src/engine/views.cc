#include "engine/views.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "engine/explain.h"
#include "engine/tiers.h"

namespace leadscore::engine {
namespace {

void FillView(const model::Model& m, const EntityCommon& e, const Measures& ms, const model::EntityPolicy& p,
              EntityView* v) {
  v->fit = ms.fit;
  v->intent = ms.intent;
  v->score = ms.score;
  v->grade = m.GradeOf(ms.fit);
  v->tier = TierName(p, e.tier);
  v->disqualified = e.disqualified;
  for (size_t s = 0; s < m.signals.size(); ++s) {
    v->signal_points.push_back(e.active >> s & 1 ? m.signals[s].points * e.Sum(s).value : 0.0);
  }
  for (const auto& c : e.history().recent) {
    v->recent_changes.push_back({TierName(p, c.from), TierName(p, c.to), c.at_ms, c.routing_id});
  }
  v->next_check_ms = e.due;
  if (e.tier == kSuppressedTier) v->suppressed_until_ms = e.history().suppressed_until;
}

}  // namespace

std::optional<EntityView> ViewLead(const EntityTable& table, const Scorer& scorer, int64_t stream_time,
                                   std::string_view lead_id) {
  const model::Model& m = scorer.model();
  EntityId lid = table.lead_ids().Find(lead_id);
  const LeadState* l = table.FindLead(lid);
  if (!l) return std::nullopt;
  LeadState copy = *l;
  const int64_t at = std::max(stream_time, copy.clock);
  scorer.DecayLead(copy, at);
  const AccountState* a = table.FindAccount(copy.account);
  EntityView v;
  v.id = table.lead_ids().Name(lid);
  v.account_id = table.account_ids().Name(copy.account);
  Measures ms = scorer.LeadMeasures(copy);
  FillView(m, copy, ms, m.lead, &v);
  v.factors = LeadFactors(m, copy, a, SIZE_MAX);
  for (const HeldRun& run : copy.held) v.held_events += static_cast<int32_t>(run.count);
  v.as_of_ms = at;
  return v;
}

std::optional<EntityView> ViewAccount(const EntityTable& table, const Scorer& scorer, int64_t stream_time,
                                      std::string_view account_id) {
  const model::Model& m = scorer.model();
  EntityId aid = table.account_ids().Find(account_id);
  const AccountState* a = table.FindAccount(aid);
  if (!a) return std::nullopt;
  AccountState copy = *a;
  const int64_t at = std::max(stream_time, copy.clock);
  scorer.DecayAccount(copy, at);
  EntityView v;
  v.id = table.account_ids().Name(aid);
  v.account_id = v.id;
  Measures ms = scorer.AccountMeasures(copy);
  FillView(m, copy, ms, m.account, &v);
  v.factors = AccountFactors(m, copy, SIZE_MAX);
  for (size_t r = 0; r < m.committee.roles.size(); ++r) {
    if (ms.role_mask >> r & 1) v.committee_roles.push_back(m.committee.roles[r]);
  }
  v.engaged_contacts = ms.engaged_contacts;
  v.coverage = ms.coverage;
  v.lead_count = static_cast<int32_t>(copy.leads.size());
  v.as_of_ms = at;
  return v;
}

}  // namespace leadscore::engine
