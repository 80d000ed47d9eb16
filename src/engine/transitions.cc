#include "engine/transitions.h"

#include <algorithm>
#include <variant>

#include "common/hash.h"

namespace leadscore::engine {

ApplyResult Transitions::Apply(const Input& input, std::vector<RoutingEvent>* out) {
  ++stats_.inputs;
  return std::visit([&](const auto& in) { return ApplyOne(in, out); }, input);
}

void Transitions::Advance(int64_t now, std::vector<RoutingEvent>* out) {
  Timer t;
  while (timers_.PopDue(now, &t)) {
    ++stats_.decay_checks;
    if (t.kind == EntityKind::kLead) {
      LeadState& l = *table_.FindLead(t.id);
      if (RunEnded(l, t.due)) {
        EndRuns(t.id, l, t.due, out);
      } else {
        scorer_.DecayLead(l, t.due);
        evaluator_.EvaluateLead(t.id, l, out);
      }
    } else {
      AccountState& a = *table_.FindAccount(t.id);
      scorer_.DecayAccount(a, t.due);
      evaluator_.EvaluateAccount(t.id, a, out);
    }
  }
  stream_time_ = std::max(stream_time_, now);
}

ApplyResult Transitions::ApplyOne(const EventInput& e, std::vector<RoutingEvent>* out) {
  if (e.occurred_at_ms > clock_bound_) {
    // Stamped by a clock ahead of ours: it happened now, not later.
    EventInput at_clock = e;
    at_clock.occurred_at_ms = clock_bound_;
    return ApplyOne(at_clock, out);
  }
  if (e.signal == kUnknownSignal || e.signal >= n_signals_) {
    ++stats_.skipped_unknown_signal;
    return {ApplyOutcome::kUnknownSignal};
  }
  // Dropped before anything: a filtered event is not scored, so it moves no time.
  if (const int f = MatchingWhenFilter(e); f >= 0) {
    ++stats_.events_filtered;
    return {ApplyOutcome::kFiltered, static_cast<uint16_t>(f)};
  }
  // A held event moves stream time as it arrives: its hold is measured in it.
  if (e.occurred_at_ms > stream_time_) Advance(e.occurred_at_ms, out);
  const int64_t st = stream_time_;
  if (e.occurred_at_ms <= st - options_.dedupe_window_ms) {
    ++stats_.skipped_too_late;
    return {ApplyOutcome::kTooLate};
  }
  const LeadState* before = table_.FindLead(e.lead);
  if (before) {
    if (e.occurred_at_ms <= before->seen.floor()) {
      ++stats_.skipped_too_late;
      return {ApplyOutcome::kTooLate};
    }
    // Held events are remembered as they arrive: a redelivery cannot lengthen a run.
    if (before->seen.Contains(e.event_key)) {
      ++stats_.skipped_duplicate;
      return {ApplyOutcome::kDuplicate};
    }
  }
  const bool same_lead = before && before->account == e.account;  // neither new nor moving
  GetOrCreateAccount(e.account);  // first: a new lead joins it
  LeadState& l = GetOrCreateLead(e.lead, e.account, out);
  Remember(l, e.event_key, e.occurred_at_ms, st);
  table_.MarkLead(e.lead, l);
  if (burst_) {
    const int64_t ends = Hold(l, e, st);
    ++stats_.events_held;
    if (same_lead) {
      // Nothing it is scored on changed: its next check is only the end of the run, if
      // sooner. Its account is untouched until then.
      timers_.ScheduleInOrder(EntityKind::kLead, e.lead, std::min(l.due, ends));
      return {ApplyOutcome::kHeld};
    }
  }
  AccountState& a = *table_.FindAccount(e.account);  // may have moved in memory
  table_.MarkAccount(e.account, a);
  scorer_.DecayLead(l, st);
  scorer_.DecayAccount(a, st);
  if (!burst_) Score(e.lead, l, a, e.signal, e.occurred_at_ms, e.attributes, st);
  evaluator_.EvaluateLead(e.lead, l, out);
  // A lead already of the account that scored the event changed only the event's terms.
  if (!burst_ && same_lead) evaluator_.EvaluateAccountAfterEvents(e.account, a, out);
  else evaluator_.EvaluateAccount(e.account, a, out);
  return {burst_ ? ApplyOutcome::kHeld : ApplyOutcome::kApplied};
}

int Transitions::MatchingWhenFilter(const EventInput& e) const {
  if (m_.filters.empty()) return -1;
  const LeadState* l = table_.FindLead(e.lead);
  const AccountState* a = table_.FindAccount(e.account);
  const model::FieldContext ctx =
      LeadContext(l, a, e.attributes.size() == m_.layout.event_slots() ? e.attributes.data() : nullptr);
  for (size_t i = 0; i < m_.filters.size(); ++i) {
    if (!m_.filters[i].burst && m_.filters[i].when.Matches(ctx)) return static_cast<int>(i);
  }
  return -1;
}

void Transitions::Score(EntityId lid, LeadState& l, AccountState& a, uint16_t signal, int64_t at,
                        const std::vector<model::FieldValue>& attributes, int64_t st) {
  const model::Signal& sig = m_.signals[signal];
  double m = 1;
  if (!sig.multipliers.empty()) {
    const model::FieldContext ctx =
        LeadContext(l, &a, attributes.size() == m_.layout.event_slots() ? attributes.data() : nullptr);
    for (uint16_t mi : sig.multipliers) {
      if (m_.multipliers[mi].when.Matches(ctx)) m *= m_.multipliers[mi].factor;
    }
  }
  const double w = m * DecayFactor(st - at, scorer_.half_life_ms(signal));  // in events: no points (state.h)
  for (EntityCommon* ent : {static_cast<EntityCommon*>(&l), static_cast<EntityCommon*>(&a)}) {
    SignalSum& sum = ent->ActiveSum(signal);
    sum.value += w;
    ++sum.count;
    sum.last_at_ms = std::max(sum.last_at_ms, at);
  }
  if (l.role >= 0) a.AddToRole(l.role, n_roles_, n_signals_, signal, w);
  TouchContact(a, lid, l.last_event_at_ms());
  ++stats_.events_scored;
}

int64_t Transitions::Hold(LeadState& l, const EventInput& e, int64_t st) {
  const int64_t within = burst_->burst_within_ms, at = e.occurred_at_ms;
  const auto burst = static_cast<uint32_t>(burst_->burst_events);
  spares_.ReuseFor(l.held);
  size_t into = l.held.size();
  for (size_t i = 0; i < l.held.size();) {
    HeldRun& run = l.held[i];
    if (!(at > run.first_ms - within && at < run.last_ms + within)) {
      ++i;
      continue;
    }
    if (into == l.held.size()) {
      into = i++;
      continue;
    }
    // The event bridges two runs: they are one run now, ending at the earlier end.
    HeldRun& to = l.held[into];
    to.release_at_ms = std::min(to.release_at_ms, run.release_at_ms);
    to.first_ms = std::min(to.first_ms, run.first_ms);
    to.last_ms = std::max(to.last_ms, run.last_ms);
    to.count += run.count;
    if (to.count >= burst) {
      spares_.GiveBackEvents(to);
    } else {
      for (auto& ev : run.events) to.events.push_back(std::move(ev));
    }
    spares_.GiveBack(run);
    l.held.erase(l.held.begin() + static_cast<std::ptrdiff_t>(i));
  }
  if (into == l.held.size()) l.held.push_back(spares_.NewRun(st + within, at, at));
  HeldRun& run = l.held[into];
  run.first_ms = std::min(run.first_ms, at);
  run.last_ms = std::max(run.last_ms, at);
  ++run.count;
  // A run that long is dropped whole when it ends: its events need not be kept.
  if (run.count >= burst) {
    spares_.GiveBackEvents(run);
  } else {
    run.events.push_back(spares_.NewEvent(at, e.signal, e.attributes));
  }
  return run.release_at_ms;
}

bool Transitions::RunEnded(const LeadState& l, int64_t t) const {
  return std::any_of(l.held.begin(), l.held.end(), [&](const HeldRun& r) { return r.release_at_ms <= t; });
}

void Transitions::EndRuns(EntityId lid, LeadState& l, int64_t t, std::vector<RoutingEvent>* out) {
  const EntityId aid = l.account;
  AccountState& a = *table_.FindAccount(aid);  // a loaded lead's account is loaded
  const int64_t st = std::max({t, l.clock, a.clock});
  scorer_.DecayLead(l, st);
  scorer_.DecayAccount(a, st);
  table_.MarkLead(lid, l);
  table_.MarkAccount(aid, a);
  const auto burst = static_cast<uint32_t>(burst_->burst_events);
  // The runs still open stay, in their order; the ended ones give their containers back.
  size_t open = 0;
  for (size_t i = 0; i < l.held.size(); ++i) {
    HeldRun& run = l.held[i];
    if (run.release_at_ms > t) {
      if (open != i) l.held[open] = std::move(run);
      ++open;
      continue;
    }
    if (run.count >= burst) {
      settled_.dropped += run.count;
      stats_.held_dropped += run.count;
    } else {
      for (const HeldEvent& ev : run.events) Score(lid, l, a, ev.signal, ev.at_ms, ev.attributes, st);
      settled_.applied += run.count;
    }
    spares_.GiveBack(run);
  }
  l.held.resize(open);
  if (l.held.empty()) spares_.GiveBack(l.held);
  evaluator_.EvaluateLead(lid, l, out);
  evaluator_.EvaluateAccountAfterEvents(aid, a, out);  // only the runs' events changed it
}

uint64_t Transitions::HeldCount(const LeadState& l) {
  uint64_t n = 0;
  for (const HeldRun& r : l.held) n += r.count;
  return n;
}

void Transitions::Remember(LeadState& l, uint64_t key, int64_t at, int64_t st) {
  const int64_t horizon = st - options_.dedupe_window_ms;
  if (l.seen.size() >= 8 && l.seen.front().second <= horizon) l.seen.ForgetUpTo(horizon);
  if (!l.seen.empty() && l.seen.size() >= options_.dedupe_max_ids_per_lead) {
    // Forget the oldest; the lead's horizon moves up to it.
    l.seen.ForgetOldest();
  }
  l.seen.Add(key, at);
}

void Transitions::TouchContact(AccountState& a, EntityId lead, int64_t last) {
  for (auto& c : a.contacts) {
    if (c.first == lead) {
      c.second = std::max(c.second, last);
      return;
    }
  }
  if (a.contacts.size() >= options_.max_contacts_per_account) {
    auto oldest = std::min_element(a.contacts.begin(), a.contacts.end(),
                                   [](const auto& x, const auto& y) { return x.second < y.second; });
    if (oldest->second >= last) return;
    *oldest = {lead, last};
    return;
  }
  a.contacts.emplace_back(lead, last);
}

ApplyResult Transitions::ApplyOne(const LeadProfileInput& p, std::vector<RoutingEvent>* out) {
  if (const LeadState* known = table_.FindLead(p.lead); known && p.updated_at_ms < known->profile_at_ms) {
    ++stats_.profiles_stale;
    return {ApplyOutcome::kStaleProfile};
  }
  // An applied profile moves stream time like an event (SPEC section 3): a stream that
  // starts with profiles is evaluated at their time, not at 0. Its own time still
  // orders profiles (last write wins); stream time goes no further than the clock.
  if (std::min(p.updated_at_ms, clock_bound_) > stream_time_) Advance(std::min(p.updated_at_ms, clock_bound_), out);
  ++stats_.profiles_applied;
  GetOrCreateAccount(p.account);
  const LeadState* known = table_.FindLead(p.lead);
  const bool born = !known;
  const bool moving = known && known->account != p.account;  // its history joins this account now
  LeadState& l = GetOrCreateLead(p.lead, p.account, out);
  AccountState& a = *table_.FindAccount(p.account);
  table_.MarkLead(p.lead, l);
  table_.MarkAccount(p.account, a);
  const int64_t st = stream_time_;
  scorer_.DecayLead(l, st);
  l.profile.Assign(p.fields, m_.layout.lead_slots(), p.whole);
  l.has_profile = true;
  l.profile_at_ms = p.updated_at_ms;
  const int role = m_.committee.RoleOf(l.profile.slot(model::kLeadRole));
  const bool role_changed = role != l.role;
  if (role_changed) {
    // The account is decayed (a move decayed it already) only when it is evaluated
    // after: one decayed and left with a check solved from an earlier clock would be
    // checked at other moments than the same account read back from the store, which
    // solves its check from the clock it was stored with.
    scorer_.DecayAccount(a, st);
    for (size_t s = 0; s < n_signals_; ++s) {
      if (!(l.active >> s & 1)) continue;
      if (l.role >= 0) a.AddToRole(l.role, n_roles_, n_signals_, s, -l.Sum(s).value);
      if (role >= 0) a.AddToRole(role, n_roles_, n_signals_, s, l.Sum(s).value);
    }
    l.role = role;
  }
  scorer_.RecomputeLeadFit(l, &a);
  if (born) l.tier = Scorer::BirthTier(l, m_.lead);  // born with its first profile
  evaluator_.EvaluateLead(p.lead, l, out);
  if (role_changed || moving) evaluator_.EvaluateAccount(p.account, a, out);
  return {ApplyOutcome::kApplied};
}

ApplyResult Transitions::ApplyOne(const AccountProfileInput& p, std::vector<RoutingEvent>* out) {
  if (const AccountState* known = table_.FindAccount(p.account); known && p.updated_at_ms < known->profile_at_ms) {
    ++stats_.profiles_stale;
    return {ApplyOutcome::kStaleProfile};
  }
  if (std::min(p.updated_at_ms, clock_bound_) > stream_time_) Advance(std::min(p.updated_at_ms, clock_bound_), out);
  ++stats_.profiles_applied;
  const bool born = !table_.FindAccount(p.account);
  AccountState& a = GetOrCreateAccount(p.account);
  table_.MarkAccount(p.account, a);
  const int64_t st = stream_time_;
  scorer_.DecayAccount(a, st);
  a.profile.Assign(p.fields, m_.layout.account_slots(), p.whole);
  a.has_profile = true;
  a.profile_at_ms = p.updated_at_ms;
  scorer_.RecomputeAccountFit(a);
  if (born) a.tier = Scorer::BirthTier(a, m_.account);  // born with its first profile
  // Lead fit reads account fields too: every lead of the account may move.
  for (EntityId lid : a.leads) {
    LeadState* l = table_.FindLead(lid);
    if (!l) continue;  // not loaded: a caller that keeps a hot set loads them first
    scorer_.DecayLead(*l, st);
    scorer_.RecomputeLeadFit(*l, &a);
    evaluator_.EvaluateLead(lid, *l, out);
  }
  evaluator_.EvaluateAccount(p.account, a, out);
  return {ApplyOutcome::kApplied};
}

// Feedback (SPEC section 3): the outcome's lead and that lead's account (the account
// alone when the outcome names no lead, or a lead not held) are suppressed until
// occurred_at + the kind's duration, and/or score the kind as a signal. The engine does
// not know routing ids, so an outcome naming a lead acts on the lead and its account
// even when it answers the account's routing event. An outcome never moves stream
// time: it takes effect at stream time (one from ahead of it counts from then).
ApplyResult Transitions::ApplyOne(const OutcomeInput& o, std::vector<RoutingEvent>* out) {
  ++stats_.outcomes;
  LeadState* l = o.lead != kNoEntity ? table_.FindLead(o.lead) : nullptr;
  const EntityId aid = l ? l->account : o.account;  // the lead's account as held (it may have moved)
  AccountState* a = aid != kNoEntity ? table_.FindAccount(aid) : nullptr;
  if (!l && !a) return {ApplyOutcome::kApplied};  // for an entity not held: nothing to record
  EntityCommon& recorded = l ? static_cast<EntityCommon&>(*l) : *a;
  EntityHistory& history = recorded.mutable_history();
  history.last_outcome = o.kind;
  history.last_outcome_at_ms = o.occurred_at_ms;
  ++history.outcomes;
  if (l) table_.MarkLead(o.lead);
  else table_.MarkAccount(aid);
  const int kind = static_cast<int>(o.kind);
  const int64_t suppress_ms = kind > 0 && kind < Scorer::kOutcomeKinds ? m_.feedback.suppress_ms[kind] : 0;
  const model::Signal* signal = scorer_.FeedbackSignal(kind);
  if (suppress_ms <= 0 && !signal) return {ApplyOutcome::kApplied};  // the model does nothing with it

  const int64_t st = std::max({stream_time_, l ? l->clock : kLongAgo, a ? a->clock : kLongAgo});
  if (l) scorer_.DecayLead(*l, st);
  if (a) scorer_.DecayAccount(*a, st);
  if (a) table_.MarkAccount(aid);
  if (suppress_ms > 0) {
    const int64_t until = o.occurred_at_ms + suppress_ms;  // a later outcome only extends it
    for (EntityCommon* e : {static_cast<EntityCommon*>(l), static_cast<EntityCommon*>(a)}) {
      if (e && until > e->history().suppressed_until) {
        e->mutable_history().suppressed_until = until;
        e->mutable_history().suppressed_by = o.kind;
      }
    }
  }
  if (signal && RememberOutcome(recorded, OutcomeKey(o), o.occurred_at_ms, st)) {
    const double w = DecayFactor(st - o.occurred_at_ms, static_cast<double>(signal->half_life.ms));
    for (EntityCommon* e : {static_cast<EntityCommon*>(l), static_cast<EntityCommon*>(a)}) {
      if (!e) continue;
      EntityHistory& h = e->mutable_history();
      h.outcome_signals.resize(Scorer::kOutcomeKinds);
      SignalSum& sum = h.outcome_signals[kind];
      sum.value += w;
      ++sum.count;
      sum.last_at_ms = std::max(sum.last_at_ms, o.occurred_at_ms);
      h.outcome_active |= static_cast<uint8_t>(1u << kind);
    }
    ++stats_.outcome_signals_scored;
  }
  if (l) evaluator_.EvaluateLead(o.lead, *l, out);
  if (a) evaluator_.EvaluateAccount(aid, *a, out);
  return {ApplyOutcome::kApplied};
}

// Outcomes have no id of their own: the same answer to the same routing event, at the
// same time, by the same lead and account, is one outcome.
uint64_t Transitions::OutcomeKey(const OutcomeInput& o) const {
  return Hasher(/*seed=*/11)
      .Bytes(o.routing_id)
      .Int(static_cast<uint64_t>(o.kind))
      .Int(static_cast<uint64_t>(o.occurred_at_ms))
      .Bytes(o.lead != kNoEntity ? table_.lead_ids().Name(o.lead) : std::string())
      .Bytes(o.account != kNoEntity ? table_.account_ids().Name(o.account) : std::string())
      .Digest();
}

// As Remember for event ids: within the dedupe window of stream time. False (not to be
// scored) for a key already seen, or an outcome too old to be told from one.
bool Transitions::RememberOutcome(EntityCommon& e, uint64_t key, int64_t at, int64_t st) {
  const int64_t horizon = st - options_.dedupe_window_ms;
  if (at <= horizon) {
    ++stats_.outcome_signals_skipped;
    return false;
  }
  std::vector<std::pair<uint64_t, int64_t>>& outcomes_seen = e.mutable_history().outcomes_seen;
  std::erase_if(outcomes_seen, [&](const auto& s) { return s.second <= horizon; });
  for (const auto& seen : outcomes_seen) {
    if (seen.first == key) {
      ++stats_.outcome_signals_skipped;
      return false;
    }
  }
  if (outcomes_seen.size() >= options_.dedupe_max_ids_per_lead) outcomes_seen.erase(outcomes_seen.begin());
  outcomes_seen.emplace_back(key, at);
  return true;
}

ApplyResult Transitions::ApplyOne(const ForgetInput& f, std::vector<RoutingEvent>* out) {
  ++stats_.forgets;
  // Another partition may hold the lead (it moved, or the Forget is keyed by its new
  // account before the move reached it): the Forget goes to every partition.
  if (f.lead != kNoEntity && !f.relayed && options_.hand_off_leads) {
    handoffs_.push_back({Handoff::Kind::kForget, std::string(table_.lead_ids().Name(f.lead)), -1, {}, stream_time_});
  }
  if (f.lead != kNoEntity) {
    LeadState* l = table_.FindLead(f.lead);
    if (!l) return {ApplyOutcome::kApplied};  // nothing held: nothing to forget
    const EntityId aid = l->account;
    AccountState& a = *table_.FindAccount(aid);
    settled_.applied += HeldCount(*l);  // erased with their lead, as scored events are
    Detach(f.lead, *l, a);
    table_.MarkAccount(aid);
    table_.MarkLead(f.lead);
    timers_.Drop(*l);  // its heap entry goes stale
    table_.EraseLead(f.lead);
    evaluator_.EvaluateAccount(aid, a, out);
    return {ApplyOutcome::kApplied};
  }
  AccountState* a = table_.FindAccount(f.account);
  if (!a) return {ApplyOutcome::kApplied};
  for (EntityId lid : a->leads) {
    const LeadState* l = table_.FindLead(lid);
    if (!l) continue;  // not loaded: a caller that keeps a hot set loads them first
    settled_.applied += HeldCount(*l);
    table_.MarkLead(lid);
    timers_.Drop(*l);
    table_.EraseLead(lid);
  }
  table_.MarkAccount(f.account);
  timers_.Drop(*a);
  table_.EraseAccount(f.account);
  return {ApplyOutcome::kApplied};
}

AccountState& Transitions::GetOrCreateAccount(EntityId id) {
  if (AccountState* known = table_.FindAccount(id)) return *known;
  AccountState& a = table_.AddAccount(id);
  a.clock = stream_time_;
  scorer_.RecomputeAccountFit(a);
  a.tier = Scorer::BirthTier(a, m_.account);  // silently
  return a;
}

// The lead, created in `account` if new, or moved to it if it was elsewhere.
LeadState& Transitions::GetOrCreateLead(EntityId id, EntityId account, std::vector<RoutingEvent>* out) {
  if (LeadState* known = table_.FindLead(id)) {
    if (known->account != account) MoveLead(id, account, out);
    return *known;
  }
  LeadState& l = table_.AddLead(id);
  // New to this partition: it may have lived on another until its account moved here.
  if (options_.hand_off_leads) {
    handoffs_.push_back({Handoff::Kind::kClaim, std::string(table_.lead_ids().Name(id)), -1, {}, stream_time_});
  }
  l.clock = stream_time_;
  l.account = account;
  AccountState& a = *table_.FindAccount(account);
  a.leads.push_back(id);
  scorer_.RecomputeLeadFit(l, &a);
  l.tier = Scorer::BirthTier(l, m_.lead);  // silently
  table_.MarkAccount(account);
  return l;
}

// Takes the lead's contribution out of its account (signal sums, role sums, contact).
void Transitions::Detach(EntityId lid, LeadState& l, AccountState& a) {
  scorer_.DecayLead(l, stream_time_);
  scorer_.DecayAccount(a, stream_time_);
  for (size_t s = 0; s < n_signals_; ++s) {
    if (!(l.active >> s & 1)) continue;
    const SignalSum& ls = l.Sum(s);
    // (An account has every signal its leads have: their events are its events.)
    SignalSum& as = a.ActiveSum(s);
    as.value -= ls.value;
    as.count -= ls.count;
    if (l.role >= 0) a.AddToRole(l.role, n_roles_, n_signals_, s, -ls.value);
  }
  // (Nor does an account lack an outcome kind its leads were scored for.)
  const EntityHistory& lh = l.history();
  for (unsigned bits = lh.outcome_active; bits; bits &= bits - 1) {
    const int k = __builtin_ctz(bits);
    SignalSum& as = a.mutable_history().outcome_signals[k];
    as.value -= lh.outcome_signals[k].value;
    as.count -= lh.outcome_signals[k].count;
  }
  erase_if(a.contacts, [&](const auto& c) { return c.first == lid; });
  erase(a.leads, lid);
}

void Transitions::Attach(EntityId lid, LeadState& l, AccountState& a) {
  scorer_.DecayLead(l, stream_time_);
  scorer_.DecayAccount(a, stream_time_);
  for (size_t s = 0; s < n_signals_; ++s) {
    if (!(l.active >> s & 1)) continue;
    AddSum(a.ActiveSum(s), l.Sum(s));
    if (l.role >= 0) a.AddToRole(l.role, n_roles_, n_signals_, s, l.Sum(s).value);
  }
  if (l.history().outcome_active) a.mutable_history().AddOutcomeSums(l.history());
  if (const int64_t last = l.last_event_at_ms(); last != kLongAgo) TouchContact(a, lid, last);
  a.leads.push_back(lid);
}

void Transitions::MoveLead(EntityId lid, EntityId to, std::vector<RoutingEvent>* out) {
  LeadState& l = *table_.FindLead(lid);
  const EntityId from = l.account;
  table_.MarkLead(lid);
  table_.MarkAccount(from);
  table_.MarkAccount(to);
  AccountState& old = *table_.FindAccount(from);
  Detach(lid, l, old);
  evaluator_.EvaluateAccount(from, old, out);
  AccountState& a = GetOrCreateAccount(to);
  l.account = to;
  Attach(lid, l, a);
  scorer_.RecomputeLeadFit(l, &a);
}

}  // namespace leadscore::engine
