#include "engine/scorer.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <cmath>
#include <cstddef>
#include <utility>

#include "engine/decay.h"

namespace leadscore::engine {
namespace {

// A check at least a millisecond after the clock, so that checks always move time on.
int64_t AddDt(int64_t clock, double dt) {
  if (!(dt < 1e15)) return kNever;  // also NaN
  int64_t t = clock + static_cast<int64_t>(std::floor(dt));
  return std::max(t, clock + 1);
}

// A time and the committee role it is for, ordered as std::pair orders them, but
// trivially constructible: AccountNextDue's two arrays of 64 are not zeroed on every
// call (the zeroing was a quarter of that function's own samples in `perf`).
template <typename Time>
struct RoleTime {
  Time at;
  size_t role;
  friend bool operator<(const RoleTime& x, const RoleTime& y) {
    return x.at < y.at || (!(y.at < x.at) && x.role < y.role);
  }
};

}  // namespace

Scorer::Scorer(const model::Model& model) : m_(model), n_signals_(m_.signals.size()) {
  half_life_.reserve(n_signals_);
  for (size_t i = 0; i < n_signals_; ++i) {
    const model::Signal& s = m_.signals[i];
    half_life_.push_back(static_cast<double>(s.half_life.ms));
    points_.push_back(s.points);
    if (s.points < 0) negative_signals_ |= uint64_t{1} << i;
  }
  for (const auto& [kind, signal] : m_.feedback.signals) {
    feedback_[kind] = &signal;
    if (signal.points < 0) negative_outcomes_ |= 1u << kind;
  }
}

// A kind the model no longer scores keeps its sum untouched and out of intent (removed
// signals stop counting).
void Scorer::DecayOutcomeSignals(EntityCommon& e, int64_t dt) const {
  if (!e.has_history()) return;
  EntityHistory& h = e.mutable_history();
  for (unsigned bits = h.outcome_active; bits; bits &= bits - 1) {
    const int k = __builtin_ctz(bits);
    if (const model::Signal* sig = FeedbackSignal(k)) {
      h.outcome_signals[k].value *= DecayFactor(dt, static_cast<double>(sig->half_life.ms));
    }
  }
}

double Scorer::OutcomeIntent(const EntityCommon& e, bool account_caps) const {
  double sum = 0;
  const EntityHistory& h = e.history();
  for (unsigned bits = h.outcome_active; bits; bits &= bits - 1) {
    const int k = __builtin_ctz(bits);
    if (const model::Signal* sig = FeedbackSignal(k)) {
      sum += std::min(account_caps ? sig->account_cap : sig->cap, sig->points * h.outcome_signals[k].value);
    }
  }
  return sum;
}

void Scorer::AddOutcomeTerms(const EntityCommon& e, bool account_caps, DecayEnvelope* env) const {
  const EntityHistory& h = e.history();
  for (unsigned bits = h.outcome_active; bits; bits &= bits - 1) {
    const int k = __builtin_ctz(bits);
    if (const model::Signal* sig = FeedbackSignal(k)) {
      env->AddCapped(sig->points * h.outcome_signals[k].value, account_caps ? sig->account_cap : sig->cap,
                     static_cast<double>(sig->half_life.ms));
    }
  }
}

void Scorer::FillSuppression(const EntityCommon& e, Measures* ms) {
  const EntityHistory& h = e.history();
  ms->suppressed = e.clock < h.suppressed_until;
  ms->suppressed_until = h.suppressed_until;
  ms->suppressed_by = static_cast<int>(h.suppressed_by);
}

void Scorer::DecayLead(LeadState& l, int64_t t) const {
  if (t <= l.clock) return;
  const int64_t dt = t - l.clock;
  for (uint64_t bits = l.active, i = 0; bits; bits &= bits - 1, ++i) {
    const int s = __builtin_ctzll(bits);
    l.signals[i].value *= DecayFactor(dt, half_life_[s]);
  }
  DecayOutcomeSignals(l, dt);
  l.clock = t;
}

void Scorer::DecayAccount(AccountState& a, int64_t t) const {
  if (t <= a.clock) return;
  const int64_t dt = t - a.clock;
  SignalSum* sums = a.signals.data();
  double* role_values = a.role_values.data();  // none until a role has a sum: nothing to decay
  const size_t roles = role_values ? m_.committee.roles.size() : 0;
  for (uint64_t bits = a.active, i = 0; bits; bits &= bits - 1, ++i) {
    const int s = __builtin_ctzll(bits);
    const double f = DecayFactor(dt, half_life_[s]);
    sums[i].value *= f;
    for (size_t r = 0; r < roles; ++r) role_values[r * n_signals_ + s] *= f;
  }
  DecayOutcomeSignals(a, dt);
  a.clock = t;
}

// Fit and disqualification from the rules; an account counts only the rules that
// name account.* fields alone.
void Scorer::ApplyFitRules(const model::FieldContext& ctx, bool account_only, EntityCommon& e) const {
  double fit = 0;
  for (const auto& r : m_.fit_rules) {
    if ((!account_only || r.account_only) && r.when.Matches(ctx)) fit += r.points;
  }
  e.fit = Clamp100(fit);
  e.disqualified = false;
  e.disqualify_rule = -1;
  for (size_t i = 0; i < m_.disqualify.size(); ++i) {
    if ((!account_only || m_.disqualify[i].account_only) && m_.disqualify[i].when.Matches(ctx)) {
      e.disqualified = true;
      e.disqualify_rule = static_cast<int>(i);
      break;
    }
  }
}

void Scorer::RecomputeLeadFit(LeadState& l, const AccountState* account) const {
  ApplyFitRules(LeadContext(l, account), false, l);
}

void Scorer::RecomputeAccountFit(AccountState& a) const { ApplyFitRules(AccountContext(a), true, a); }

void Scorer::PruneContacts(AccountState& a) const {
  const int64_t start = a.clock - m_.committee.contact_window_ms;
  if (!a.contacts.empty()) erase_if(a.contacts, [&](const auto& c) { return c.second <= start; });
}

Measures Scorer::LeadMeasures(const LeadState& l) const {
  Measures ms;
  ms.fit = l.fit;
  double sum = 0;
  for (uint64_t bits = l.active, i = 0; bits; bits &= bits - 1, ++i) {
    const int s = __builtin_ctzll(bits);
    sum += std::min(m_.signals[s].cap, points_[s] * l.signals[i].value);
  }
  ms.intent = Clamp100(sum + OutcomeIntent(l, false));
  ms.score = m_.lead.fit_weight * ms.fit + m_.lead.intent_weight * ms.intent;
  ms.disqualified = l.disqualified;
  ms.disqualify_rule = l.disqualify_rule;
  FillSuppression(l, &ms);
  return ms;
}

double Scorer::RoleValue(const AccountState& a, size_t r) const {
  if (a.role_values.empty()) return 0;
  double w = 0;
  const double* role = a.role_values.data() + r * n_signals_;
  for (uint64_t bits = a.active; bits; bits &= bits - 1) {
    const int s = __builtin_ctzll(bits);
    w += points_[s] * role[s];
  }
  return w;
}

double Scorer::Coverage(uint64_t role_mask) const {
  const model::Committee& c = m_.committee;
  double covered = 0;
  for (size_t r = 0; r < c.roles.size(); ++r) {
    if (role_mask >> r & 1) covered += c.weights[r];
  }
  return c.total_weight > 0 ? 100.0 * covered / c.total_weight : 0;
}

bool Scorer::EngagedContact(int64_t last, int64_t clock) const {
  return last > clock - m_.committee.contact_window_ms && last <= clock;
}

Measures Scorer::AccountMeasures(const AccountState& a) const {
  Measures ms;
  ms.fit = a.fit;
  double sum = 0;
  const SignalSum* sums = a.signals.data();
  for (uint64_t bits = a.active, i = 0; bits; bits &= bits - 1, ++i) {
    const int s = __builtin_ctzll(bits);
    sum += std::min(m_.signals[s].account_cap, points_[s] * sums[i].value);
  }
  ms.intent = Clamp100(sum + OutcomeIntent(a, true));
  const model::Committee& c = m_.committee;
  for (size_t r = 0; r < c.roles.size(); ++r) {
    if (RoleValue(a, r) >= c.role_min_intent) {
      ms.role_mask |= uint64_t{1} << r;
      ++ms.engaged_roles;
    }
  }
  ms.coverage = Coverage(ms.role_mask);  // as the checks' steps count it (AccountNextDue)
  for (const auto& [lead, last] : a.contacts) {
    if (EngagedContact(last, a.clock)) ++ms.engaged_contacts;
  }
  ms.score = m_.account.fit_weight * ms.fit + m_.account.intent_weight * ms.intent +
             m_.account.committee_weight * ms.coverage;
  ms.disqualified = a.disqualified;
  ms.disqualify_rule = a.disqualify_rule;
  FillSuppression(a, &ms);
  return ms;
}

// A lower bound on when decay alone can change the tier: thresholds on score become
// thresholds on intent (fit and, between committee changes, coverage are constant).
int64_t Scorer::NextDue(const EntityCommon& e, const model::EntityPolicy& p, const DecayEnvelope& env,
                        double constant, const Measures& ms) const {
  if (e.tier == kDisqualifiedTier) return kNever;
  const double b = p.intent_weight;
  double dt = kInf;
  const auto lowest = LowestTier(p);
  if (e.tier != lowest) {
    const model::Tier& t = p.tiers[e.tier];
    double theta = -kInf;
    if (t.min_score) {
      // With no weight on intent the score is the constant: below the line it fails at
      // once, as a line on intent above 100 does.
      if (b > 0) theta = std::max(theta, (*t.min_score - p.hysteresis - constant) / b);
      else if (constant < *t.min_score - p.hysteresis) dt = 0;
    }
    if (t.min_intent) theta = std::max(theta, *t.min_intent - p.hysteresis);
    if (theta > -kInf) dt = std::min(dt, EarliestClampedBelow(env, theta));
  }
  if (env.neg < 0) {
    for (int16_t j = 0; j < e.tier; ++j) {
      const model::Tier& t = p.tiers[j];
      if (t.min_fit && ms.fit < *t.min_fit) continue;
      if (t.min_engaged_contacts && ms.engaged_contacts < *t.min_engaged_contacts) continue;
      if (t.min_roles && ms.engaged_roles < *t.min_roles) continue;
      double theta = -kInf;
      if (t.min_score) {
        if (b > 0) theta = std::max(theta, (*t.min_score - constant) / b);
        else if (constant < *t.min_score) continue;
      }
      if (t.min_intent) theta = std::max(theta, *t.min_intent);
      dt = std::min(dt, EarliestClampedAtLeast(env, theta));
    }
  }
  return AddDt(e.clock, dt);
}

int64_t Scorer::LeadNextDue(const LeadState& l, const Measures& ms) const {
  // The end of a held run is a check too (the earliest; runs may have merged).
  int64_t release = kNever;
  for (const HeldRun& run : l.held) release = std::min(release, run.release_at_ms);
  return std::min(release, LeadDecayDue(l, ms));
}

int64_t Scorer::LeadDecayDue(const LeadState& l, const Measures& ms) const {
  if (l.tier == kDisqualifiedTier) return kNever;
  // Nothing else moves it meanwhile; a check always moves time on (a restored entity
  // whose end has passed leaves at its next check).
  if (l.tier == kSuppressedTier) return std::max(l.history().suppressed_until, l.clock + 1);
  DecayEnvelope env;
  for (uint64_t bits = l.active, i = 0; bits; bits &= bits - 1, ++i) {
    const int s = __builtin_ctzll(bits);
    env.AddCapped(points_[s] * l.signals[i].value, m_.signals[s].cap, half_life_[s]);
  }
  AddOutcomeTerms(l, false, &env);
  if (l.tier == LowestTier(m_.lead) && env.neg >= 0) return kNever;  // nothing can move by decay
  return NextDue(l, m_.lead, env, m_.lead.fit_weight * ms.fit, ms);
}

int64_t Scorer::AccountNextDue(AccountState& a, const Measures& ms) const {
  if (a.tier == kDisqualifiedTier) return kNever;
  if (a.tier == kSuppressedTier) return std::max(a.history().suppressed_until, a.clock + 1);  // as for a lead
  if (a.tier == LowestTier(m_.account) && !HadNegativeTerms(a)) return kNever;
  DecayEnvelope env;
  for (uint64_t bits = a.active, i = 0; bits; bits &= bits - 1, ++i) {
    const int s = __builtin_ctzll(bits);
    env.AddCapped(points_[s] * a.signals[i].value, m_.signals[s].account_cap, half_life_[s]);
  }
  AddOutcomeTerms(a, true, &env);
  const model::EntityPolicy& p = m_.account;
  int64_t due = NextDue(a, p, env, p.fit_weight * ms.fit + p.committee_weight * ms.coverage, ms);
  // Committee changes: a contact leaving the window, a role crossing role_min_intent.
  const model::Committee& c = m_.committee;
  due = std::min(due, ContactsDue(a));
  // A role's crossing as last solved holds while it is still ahead, the role is engaged
  // as it was, and its sums changed by decay alone (AccountState::role_crossing). The
  // others are solved again, but only when they could be the next check: solving an
  // envelope (EarliestBelow / EarliestAtLeast) takes Newton steps from dt = 0 that only
  // move on, so its first step, which costs no exp, is a lower bound on what it returns
  // (decay.h, exact in floating point). They are solved soonest bound first; once a
  // bound is no sooner than the check found so far, that role and every later one stay
  // unsolved, to be solved when they could matter. Both depend only on the account's
  // state (the crossings are stored with it), so an account read back is checked at
  // the moments the one kept in memory is.
  const double theta = c.role_min_intent;
  const size_t roles = c.roles.size();
  if (a.role_crossing.size() != roles) {
    a.role_crossing.assign(roles, kLongAgo);
    a.role_crossing_engaged = 0;
  }
  constexpr size_t kMaxRoles = 64;  // the model loader refuses more
  assert(roles <= kMaxRoles);
  RoleTime<double> order[kMaxRoles];  // (first step, role); only the first n are set
  size_t n = 0;
  auto engaged = [&](size_t r) { return ((ms.role_mask >> r) & 1) != 0; };
  // An engaged role's crossing is not a check of its own but a step down in coverage
  // and in engaged roles (below), which only matters where the tier can fail: not in
  // the lowest, nor where the score stays above the tier's line until the check found
  // so far even with every engaged role gone (a solve of its own, cheaper than one per
  // role and step). One that engages is a check where a tier above could then hold; in
  // the top tier it can only raise the score, which no check needs: the steps below and
  // NextDue take the coverage as it is now, or lower. A crossing that does not matter
  // is left unsolved.
  const model::Tier& tier = p.tiers[a.tier];
  bool can_fail = a.tier != LowestTier(p);
  if (can_fail && !tier.min_roles) {
    Measures none = ms;
    none.role_mask = 0;
    none.engaged_roles = 0;
    none.coverage = 0;
    can_fail = NextDue(a, p, env, p.fit_weight * ms.fit, none) < due;
  }
  const bool can_rise = a.tier > 0;
  auto matters = [&](size_t r) { return engaged(r) ? can_fail : can_rise; };
  RoleTime<int64_t> leaving[kMaxRoles];  // (crossing, role); only the first n_leaving are set
  size_t n_leaving = 0;
  auto crossing = [&](size_t r, int64_t at) {
    if (engaged(r)) leaving[n_leaving++] = {at, r};
    else due = std::min(due, at);
  };
  for (size_t r = 0; r < roles; ++r) {
    if (!matters(r)) continue;
    if (a.role_crossing[r] > a.clock && (((a.role_crossing_engaged >> r) & 1) != 0) == engaged(r)) {
      crossing(r, a.role_crossing[r]);
      continue;
    }
    a.role_crossing[r] = kLongAgo;
    const DecayEnvelope env = RoleEnvelope(a, r);
    const double first_step = engaged(r) ? EarliestBelowFirstStep(env, theta) : EarliestAtLeastFirstStep(env, theta);
    if (first_step < kInf) {
      order[n++] = {first_step, r};
    } else {  // it cannot cross while its sums only decay
      a.RememberRoleCrossing(r, kNever, engaged(r));
    }
  }
  std::sort(order, order + n);
  for (size_t i = 0; i < n && AddDt(a.clock, order[i].at) < due; ++i) {
    const size_t r = order[i].role;
    const DecayEnvelope env = RoleEnvelope(a, r);
    const int64_t at = AddDt(a.clock, engaged(r) ? EarliestBelow(env, theta) : EarliestAtLeast(env, theta));
    a.RememberRoleCrossing(r, at, engaged(r));
    crossing(r, at);
  }
  // Roles leaving lower the score and the count of engaged roles, and only those: such
  // a crossing is a check only where the tier can fail from it. With the roles left by
  // each crossing in time order, the tier fails at the crossing itself (its
  // min_roles, or a score already below the line without the role) or later, when
  // intent falls to the line the lower coverage draws, which NextDue solves from the
  // clock (no later than a check at the crossing would solve it). Most accounts in a
  // tier whose score is well above its minimum had a check at each role's crossing
  // that could change nothing.
  std::sort(leaving, leaving + n_leaving);
  Measures after = ms;
  for (size_t i = 0; i < n_leaving && leaving[i].at < due; ++i) {
    const auto [at, r] = leaving[i];
    after.role_mask &= ~(uint64_t{1} << r);
    --after.engaged_roles;
    after.coverage = Coverage(after.role_mask);
    if (tier.min_roles && after.engaged_roles < *tier.min_roles) {
      due = at;
      break;
    }
    const double constant = p.fit_weight * ms.fit + p.committee_weight * after.coverage;
    due = std::min(due, std::max(at, NextDue(a, p, env, constant, after)));
  }
  return due;
}

// Events scored into an account whose every term has points of at least zero (no
// negative signal, no negative feedback signal had) only add: to its signal sums, its
// role sums and its contacts' last times, each of which then decays as it would have.
// With weights and multipliers never negative (the model loader refuses them), every
// measure a tier reads (intent, coverage, engaged roles, engaged contacts; fit does not
// move) is then at every later time at least what it would have been without them,
// so the account cannot fail its tier sooner than its check as solved before, which
// stays a lower bound; and with nothing negative to rise back, decay alone cannot lift
// it to a tier above, which NextDue would otherwise look for. So while the tier is kept
// (a move solves anew for the new tier) and the check is still ahead, it is kept. The
// check then comes earlier than a new solve would put it, and solves again from there
// (it is a lower bound either way). The check kept is stored with the account, and an
// account read back under the model and format that wrote it takes its stored check
// instead of solving one (Engine::Restore), so it is checked at the moments the one
// kept in memory is. At the SPEC model this kept the check at 22 % of the runs' ends in
// `engine_bench` (most of the others are accounts that have had an unsubscribe).
bool Scorer::AccountDueHoldsAfterEvents(const AccountState& a) const {
  if (a.tier < 0 || a.due <= a.clock) return false;  // disqualified or suppressed; or due now
  return !HadNegativeTerms(a);
}

bool Scorer::HadNegativeTerms(const EntityCommon& e) const {
  return (e.active & negative_signals_) != 0 || (e.history().outcome_active & negative_outcomes_) != 0;
}

// Engaged contacts only leave the window as time passes, so their count only falls,
// and a falling count can only fail the current tier's min_engaged_contacts: it can
// never make another tier hold, and a tier without that minimum does not read it. So
// the check is when the count falls below the minimum, the (n - k + 1)-th earliest end
// among the n engaged contacts, not each end: an account in a tier without the minimum
// (most) had a check at every contact's end that could change nothing. (A contact whose
// last event is after the clock, as a lead's merge after a handoff can leave, is not
// counted yet and is left out here; it could only add to the count. Checks never
// looked for it.)
int64_t Scorer::ContactsDue(const AccountState& a) const {
  const std::optional<int32_t>& need = m_.account.tiers[a.tier].min_engaged_contacts;
  if (!need || *need <= 0) return kNever;
  const int64_t window = m_.committee.contact_window_ms;
  // The engaged contacts' ends, in place for the usual few (a large account's on the heap).
  std::array<int64_t, 64> in_place;
  std::vector<int64_t> on_heap;
  if (a.contacts.size() > in_place.size()) on_heap.resize(a.contacts.size());
  int64_t* ends = on_heap.empty() ? in_place.data() : on_heap.data();
  size_t n = 0;
  for (const auto& [lead, last] : a.contacts) {
    if (EngagedContact(last, a.clock)) ends[n++] = last + window;
  }
  if (n == 0) return kNever;
  // Fewer engaged than the minimum (only an account read back under another model, whose
  // tier the re-evaluation decides): the earliest end, as a check at every end gave.
  const auto k = static_cast<size_t>(*need);
  const size_t falls_at = n >= k ? n - k : 0;
  std::nth_element(ends, ends + falls_at, ends + n);
  return std::max(ends[falls_at], a.clock + 1);
}

DecayEnvelope Scorer::RoleEnvelope(const AccountState& a, size_t r) const {
  DecayEnvelope env;
  if (a.role_values.empty()) return env;
  for (uint64_t bits = a.active; bits; bits &= bits - 1) {
    const int s = __builtin_ctzll(bits);
    env.Add(points_[s] * a.role_values[r * n_signals_ + s], half_life_[s]);
  }
  return env;
}

}  // namespace leadscore::engine
