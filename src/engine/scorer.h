// The model's arithmetic on one entity (SPEC.md section 3): decay to a time, fit and
// disqualification from the rules, the measures the tiers are checked against, and
// the earliest time decay alone could change the tier. Internal to src/engine/.
//
// A Scorer changes only the entity it is given, never the table, the timers or the
// stats, so a view can score a copy. Const after construction: safe to share.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "engine/decay.h"
#include "engine/state.h"
#include "engine/tiers.h"

namespace leadscore::engine {

class Scorer {
 public:
  explicit Scorer(const model::Model& model);

  const model::Model& model() const { return m_; }
  size_t signals() const { return n_signals_; }
  double half_life_ms(size_t signal) const { return half_life_[signal]; }
  // The model's feedback.signals entry for an outcome kind (by number); null: none.
  const model::Signal* FeedbackSignal(int kind) const {
    return kind > 0 && kind < kOutcomeKinds ? feedback_[kind] : nullptr;
  }
  static constexpr int kOutcomeKinds = static_cast<int>(model::kOutcomeKindNames.size());

  // Moves the entity clock on to `t` (never back), decaying every sum.
  void DecayLead(LeadState& l, int64_t t) const;
  void DecayAccount(AccountState& a, int64_t t) const;

  // Fit and disqualification from the profiles. A lead's rules read its account's
  // profile too (`account` may be null: not known).
  void RecomputeLeadFit(LeadState& l, const AccountState* account) const;
  void RecomputeAccountFit(AccountState& a) const;

  // Contacts whose last event left the committee window no longer count.
  void PruneContacts(AccountState& a) const;

  Measures LeadMeasures(const LeadState& l) const;
  Measures AccountMeasures(const AccountState& a) const;

  // When decay alone may next change the tier, from the measures at the entity clock;
  // kNever when it cannot. A lower bound: the entity is checked then and asked again.
  // A lead's next check is also no later than the end of its first held run.
  int64_t LeadNextDue(const LeadState& l, const Measures& ms) const;
  // For an account it also keeps the committee roles' crossings it solves, and solves
  // again those that no longer hold (AccountState::role_crossing).
  int64_t AccountNextDue(AccountState& a, const Measures& ms) const;
  // Whether the account's next check as last solved (its `due`) still holds after
  // events were scored into it, with nothing else changed and its tier kept: a lower
  // bound on when decay alone can next change the tier needs no new solve while every
  // term of the account only adds. See the definition for why.
  bool AccountDueHoldsAfterEvents(const AccountState& a) const;

  static int16_t LowestTier(const model::EntityPolicy& p) { return static_cast<int16_t>(p.tiers.size() - 1); }
  // An entity is born in the lowest tier, or in `disqualified` if it is from the start.
  static int16_t BirthTier(const EntityCommon& e, const model::EntityPolicy& p) {
    return e.disqualified ? kDisqualifiedTier : LowestTier(p);
  }

 private:
  int64_t LeadDecayDue(const LeadState& l, const Measures& ms) const;
  void ApplyFitRules(const model::FieldContext& ctx, bool account_only, EntityCommon& e) const;
  // A contact is engaged while its last event is in the window (clock - window, clock]:
  // what AccountMeasures counts and ContactsDue ends.
  bool EngagedContact(int64_t last, int64_t clock) const;
  // When the count of engaged contacts can next fail the account's tier (kNever: it cannot).
  int64_t ContactsDue(const AccountState& a) const;
  double RoleValue(const AccountState& a, size_t r) const;
  // Committee coverage, 0..100, of the engaged roles (bit per role).
  double Coverage(uint64_t role_mask) const;
  // Role r's points at the clock, as terms that decay (no caps).
  DecayEnvelope RoleEnvelope(const AccountState& a, size_t r) const;
  int64_t NextDue(const EntityCommon& e, const model::EntityPolicy& p, const DecayEnvelope& env, double constant,
                  const Measures& ms) const;
  // Outcome-signal sums decayed with the rest; capped sums of them into intent.
  void DecayOutcomeSignals(EntityCommon& e, int64_t dt) const;
  double OutcomeIntent(const EntityCommon& e, bool account_caps) const;
  void AddOutcomeTerms(const EntityCommon& e, bool account_caps, DecayEnvelope* env) const;
  static void FillSuppression(const EntityCommon& e, Measures* ms);
  // Whether the entity has had a signal or a scored outcome kind with negative points:
  // something that rises back as it decays.
  bool HadNegativeTerms(const EntityCommon& e) const;

  const model::Model& m_;
  const size_t n_signals_;
  std::vector<double> half_life_;  // ms, per signal
  std::vector<double> points_;     // per signal: the sums are in events (state.h), points multiply here
  std::array<const model::Signal*, kOutcomeKinds> feedback_{};  // by outcome kind number
  uint64_t negative_signals_ = 0;   // bit s: signal s has negative points
  unsigned negative_outcomes_ = 0;  // bit k: outcome kind k scores negative points
};

}  // namespace leadscore::engine
