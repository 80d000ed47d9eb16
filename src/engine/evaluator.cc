#include "engine/evaluator.h"

#include <string>

#include "common/hash.h"
#include "engine/explain.h"
#include "engine/tiers.h"

namespace leadscore::engine {

void Evaluator::EvaluateLead(EntityId id, LeadState& l, std::vector<RoutingEvent>* out) {
  const Measures ms = scorer_.LeadMeasures(l);
  const int16_t to = DecideTier(m_.lead, l.tier, ms);
  if (to != l.tier) {
    table_.MarkLead(id, l);
    RoutingEvent ev = MakeEvent(EntityKind::kLead, l, m_.lead, to, ms);
    ev.lead_id = table_.lead_ids().Name(id);
    ev.account_id = table_.account_ids().Name(l.account);
    ev.factors = LeadFactors(m_, l, table_.FindAccount(l.account), kTopFactors);
    Record(l, to, ev, out);
  }
  timers_.Schedule(EntityKind::kLead, id, scorer_.LeadNextDue(l, ms));
}

void Evaluator::EvaluateAccount(EntityId id, AccountState& a, std::vector<RoutingEvent>* out) {
  const Measures ms = DecideAccount(id, a, out);
  timers_.Schedule(EntityKind::kAccount, id, scorer_.AccountNextDue(a, ms));
}

void Evaluator::EvaluateAccountAfterEvents(EntityId id, AccountState& a, std::vector<RoutingEvent>* out) {
  const int16_t before = a.tier;
  const Measures ms = DecideAccount(id, a, out);
  if (a.tier == before && scorer_.AccountDueHoldsAfterEvents(a)) return;  // its check stays queued
  timers_.Schedule(EntityKind::kAccount, id, scorer_.AccountNextDue(a, ms));
}

Measures Evaluator::DecideAccount(EntityId id, AccountState& a, std::vector<RoutingEvent>* out) {
  scorer_.PruneContacts(a);
  const Measures ms = scorer_.AccountMeasures(a);
  const int16_t to = DecideTier(m_.account, a.tier, ms);
  if (to != a.tier) {
    table_.MarkAccount(id, a);
    RoutingEvent ev = MakeEvent(EntityKind::kAccount, a, m_.account, to, ms);
    ev.account_id = table_.account_ids().Name(id);
    ev.factors = AccountFactors(m_, a, kTopFactors);
    for (size_t r = 0; r < m_.committee.roles.size(); ++r) {
      if (ms.role_mask >> r & 1) ev.committee_roles.push_back(m_.committee.roles[r]);
    }
    ev.engaged_contacts = ms.engaged_contacts;
    Record(a, to, ev, out);
  }
  return ms;
}

RoutingEvent Evaluator::MakeEvent(EntityKind kind, const EntityCommon& e, const model::EntityPolicy& p,
                                  int16_t to, const Measures& ms) const {
  RoutingEvent ev;
  ev.entity = kind;
  ev.from_tier = TierName(p, e.tier);
  ev.to_tier = TierName(p, to);
  ev.direction = RanksAbove(to, e.tier) ? Direction::kUp : Direction::kDown;
  ev.fit = ms.fit;
  ev.intent = ms.intent;
  ev.score = ms.score;
  ev.grade = m_.GradeOf(ms.fit);
  ev.model_version = m_.version;
  ev.occurred_at_ms = e.clock;
  if (to >= 0) {  // a tier of the policy: not disqualified, not suppressed
    const model::Tier& t = p.tiers[to];
    if (t.sla) ev.sla_due_at_ms = DueAt(e.clock, *t.sla);
    ev.action = t.action;
    ev.feedback = t.feedback;
  }
  ev.reason = TierReason(m_, p, e.tier, to, ms);
  if (!reason_prefix_.empty()) ev.reason = reason_prefix_ + ": " + ev.reason;
  return ev;
}

// Gives the event its id, applies the change to the entity and emits it. The id is a
// digest of what makes this change unique (model, entity, its count of changes, the
// tiers, the time), so the same inputs give the same ids in a replay, or in a run
// resumed after a crash, and consumers can drop what they have already seen.
void Evaluator::Record(EntityCommon& e, int16_t to, RoutingEvent& ev, std::vector<RoutingEvent>* out) {
  const std::string& entity_id = ev.entity == EntityKind::kLead ? ev.lead_id : ev.account_id;
  auto digest = [&](uint64_t seed) {
    return Hasher(seed)
        .Bytes(m_.version)
        .Int(static_cast<uint64_t>(ev.entity))
        .Bytes(entity_id)
        .Int(e.history().changes)
        .Bytes(ev.from_tier)
        .Bytes(ev.to_tier)
        .Int(static_cast<uint64_t>(ev.occurred_at_ms))
        .Digest();
  };
  // Two digests: 32 lowercase hex digits.
  ev.routing_id.clear();
  ev.routing_id.reserve(32);
  AppendHex(ev.routing_id, digest(1));
  AppendHex(ev.routing_id, digest(2));
  EntityHistory& h = e.mutable_history();
  h.recent.push_back({e.tier, to, ev.occurred_at_ms, ev.routing_id});
  if (h.recent.size() > options_.recent_changes) h.recent.erase(h.recent.begin());
  e.tier = to;
  ++h.changes;
  ++stats_.routing_events;
  out->push_back(std::move(ev));
}

}  // namespace leadscore::engine
