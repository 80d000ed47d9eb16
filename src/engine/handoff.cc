// A lead changing partition: the two halves of a handoff (README "A lead that changes
// partition"). Partitioning is by account; when a lead's records start naming an
// account on another partition, that partition creates the lead and claims it (a
// Handoff to every other partition); the partition that held it releases it here (its
// account stops counting it) and its whole state travels to the claimant, which merges
// it into the lead it created. Afterwards the lead lives on one partition only, with
// all of its history, as if the move had happened within one partition.
#include <algorithm>
#include <string>
#include <utility>

#include "engine/transitions.h"

namespace leadscore::engine {

ApplyResult Transitions::ApplyOne(const LeadReleaseInput& r, std::vector<RoutingEvent>* out) {
  if (!table_.FindLead(r.lead)) return {ApplyOutcome::kApplied};  // not here: nothing to hand over
  // The move happened at the claimant's time: the old account loses the lead then, as
  // it would have had both accounts been on one partition.
  if (std::min(r.at_ms, clock_bound_) > stream_time_) Advance(std::min(r.at_ms, clock_bound_), out);
  LeadState* l = table_.FindLead(r.lead);
  const EntityId aid = l->account;
  AccountState& a = *table_.FindAccount(aid);
  Detach(r.lead, *l, a);  // both decayed to stream time: the state leaves at it
  handoffs_.push_back({Handoff::Kind::kTransfer, std::string(table_.lead_ids().Name(r.lead)), r.to_partition,
                       codec_.EncodeLead(*l, table_.account_ids()), stream_time_});
  table_.MarkAccount(aid);
  table_.MarkLead(r.lead);  // erased from the store with this batch
  timers_.Drop(*l);
  table_.EraseLead(r.lead);
  evaluator_.EvaluateAccount(aid, a, out);  // its old account may move down now
  ++stats_.leads_released;
  return {ApplyOutcome::kApplied};
}

ApplyResult Transitions::ApplyOne(const LeadAdoptInput& in, std::vector<RoutingEvent>* out) {
  if (!table_.FindLead(in.lead)) {
    // Forgotten here since it claimed the lead: the history must not come back.
    ++stats_.handoffs_dropped;
    return {ApplyOutcome::kApplied};
  }
  LeadState from;
  std::string old_account;
  if (!codec_.DecodeLead(table_.lead_ids().Name(in.lead), in.state, &from, &old_account).ok()) {
    ++stats_.handoffs_dropped;  // written by this release: cannot happen short of corruption
    return {ApplyOutcome::kApplied};
  }
  // The state left its partition at that partition's stream time: this one moves on to
  // it, as it would for an event of that time (sums are never decayed backwards).
  if (std::min(in.at_ms, clock_bound_) > stream_time_) Advance(std::min(in.at_ms, clock_bound_), out);
  LeadState& l = *table_.FindLead(in.lead);
  const EntityId aid = l.account;
  AccountState& a = *table_.FindAccount(aid);
  Detach(in.lead, l, a);
  scorer_.DecayLead(from, stream_time_);
  Merge(l, std::move(from));
  l.role = l.has_profile ? m_.committee.RoleOf(l.profile.slot(model::kLeadRole)) : -1;
  Attach(in.lead, l, a);
  scorer_.RecomputeLeadFit(l, &a);
  table_.MarkLead(in.lead);
  table_.MarkAccount(aid);
  evaluator_.EvaluateLead(in.lead, l, out);
  evaluator_.EvaluateAccount(aid, a, out);
  ++stats_.leads_adopted;
  return {ApplyOutcome::kApplied};
}

namespace {
// The (key, time) pairs of `from` that `into` does not have yet, added.
void AddSeen(std::vector<std::pair<uint64_t, int64_t>>& into, const std::vector<std::pair<uint64_t, int64_t>>& from) {
  for (const auto& seen : from) {
    if (std::find_if(into.begin(), into.end(), [&](const auto& s) { return s.first == seen.first; }) == into.end()) {
      into.push_back(seen);
    }
  }
}
void AddSeen(DedupeIds& into, const DedupeIds& from) {
  for (const auto& [key, at] : from) {
    if (!into.Contains(key)) into.Add(key, at);
  }
}
}  // namespace

void Transitions::Merge(LeadState& into, LeadState&& from) {
  // Both are at stream time: sums add (the same events were never in both, short of a
  // duplicate delivered to each side while the handoff was under way).
  for (uint64_t bits = from.active, i = 0; bits; bits &= bits - 1, ++i) {
    AddSum(into.ActiveSum(static_cast<size_t>(__builtin_ctzll(bits))), from.signals[i]);
  }
  // Dedupe holds across the move: every id either side remembers is remembered here.
  AddSeen(into.seen, from.seen);
  into.seen.RaiseFloor(from.seen.floor());
  for (HeldRun& run : from.held) into.held.push_back(std::move(run));
  std::sort(into.held.begin(), into.held.end(),
            [](const HeldRun& x, const HeldRun& y) { return x.release_at_ms < y.release_at_ms; });
  // Last write wins for profiles, as everywhere.
  if (from.has_profile && (!into.has_profile || from.profile_at_ms > into.profile_at_ms)) {
    into.profile.Assign(from.profile.Unpacked(), m_.layout.lead_slots(), from.profile.whole());
    into.has_profile = true;
    into.profile_at_ms = from.profile_at_ms;
  }
  // The tier goes on from where it was: a lead that has not routed here since it
  // arrived (it was born silently) takes the tier it had, so no routing event repeats
  // what sales already has. Its routing history goes on too, so routing ids stay unique.
  if (into.history().changes == 0) into.tier = from.tier;
  if (from.has_history()) MergeHistory(into.mutable_history(), std::move(from.mutable_history()));
}

void Transitions::MergeHistory(EntityHistory& into, EntityHistory&& from) const {
  // Outcomes scored as signals (feedback.signals) add as the sums do.
  into.changes += from.changes;
  into.AddOutcomeSums(from);
  AddSeen(into.outcomes_seen, from.outcomes_seen);  // their dedupe holds across the move too
  // A suppression (feedback.suppress) goes on to its end, whichever side had it.
  if (from.suppressed_until > into.suppressed_until) {
    into.suppressed_until = from.suppressed_until;
    into.suppressed_by = from.suppressed_by;
  }
  into.recent.insert(into.recent.begin(), std::make_move_iterator(from.recent.begin()),
                     std::make_move_iterator(from.recent.end()));
  std::stable_sort(into.recent.begin(), into.recent.end(),
                   [](const TierChange& x, const TierChange& y) { return x.at_ms < y.at_ms; });
  if (into.recent.size() > options_.recent_changes) {
    into.recent.erase(into.recent.begin(), into.recent.end() - static_cast<std::ptrdiff_t>(options_.recent_changes));
  }
  if (from.last_outcome_at_ms > into.last_outcome_at_ms) {
    into.last_outcome = from.last_outcome;
    into.last_outcome_at_ms = from.last_outcome_at_ms;
  }
  into.outcomes += from.outcomes;
}

}  // namespace leadscore::engine
