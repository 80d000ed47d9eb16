// The per-entity state the engine keeps. Internal to src/engine/.
//
// Signal sums (in events, see SignalSum) are stored as their value at the entity clock (`clock`); moving the
// clock on multiplies them by the decay factor. An account's per-signal sums are the
// sums of its leads' (same events, same multipliers), so a lead can be subtracted
// exactly when it is forgotten, changes role or moves to another account.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/compact_vector.h"
#include "engine/dedupe_ids.h"
#include "engine/engine.h"
#include "engine/prefetch.h"
#include "engine/profile_block.h"
#include "engine/tiers.h"

namespace leadscore::engine {

constexpr int64_t kNever = std::numeric_limits<int64_t>::max();
constexpr int64_t kLongAgo = std::numeric_limits<int64_t>::min();
static_assert(kLongAgo == DedupeIds::kNoFloor, "a lead without a floor stores kLongAgo");

// In events, not points: each event adds its multiplier decayed to the entity clock,
// and the model's points multiply the sum when it is read (Scorer). So a change of
// points or caps applies to all history at once (SPEC section 3, "Changing the model").
struct SignalSum {
  double value = 0;  // decayed to the entity clock, multipliers applied, uncapped; no points
  int32_t count = 0;
  int64_t last_at_ms = kLongAgo;
};

// One signal's sum from elsewhere added in (a lead's into its account, a lead's two
// halves after a handoff); both at the same clock.
inline void AddSum(SignalSum& into, const SignalSum& from) {
  into.value += from.value;
  into.count += from.count;
  into.last_at_ms = std::max(into.last_at_ms, from.last_at_ms);
}
// The sums of `from` whose bit is set in `active`, added into `into`'s: outcome sums,
// one per kind (signal sums are kept by the active bits: EntityCommon::ActiveSum).
inline void AddSums(std::vector<SignalSum>& into, const std::vector<SignalSum>& from, uint64_t active) {
  for (uint64_t bits = active; bits; bits &= bits - 1) {
    const int k = __builtin_ctzll(bits);
    AddSum(into[k], from[k]);
  }
}

struct TierChange {
  int16_t from = 0, to = 0;
  int64_t at_ms = 0;
  std::string routing_id;
};

// A value kept out of line: made on first use, copied with its owner (the views decay a
// copy of an entity), moved by its pointer.
template <typename T>
class OutOfLine {
 public:
  OutOfLine() = default;
  OutOfLine(const OutOfLine& o) : p_(o.p_ ? std::make_unique<T>(*o.p_) : nullptr) {}
  OutOfLine& operator=(const OutOfLine& o) {
    if (this != &o) p_ = o.p_ ? std::make_unique<T>(*o.p_) : nullptr;
    return *this;
  }
  OutOfLine(OutOfLine&&) noexcept = default;
  OutOfLine& operator=(OutOfLine&&) noexcept = default;

  const T* get() const { return p_.get(); }
  T& make() {
    if (!p_) p_ = std::make_unique<T>();
    return *p_;
  }

 private:
  std::unique_ptr<T> p_;
};

// What few entities have: tier changes and sales outcomes. Out of line, made on first
// use: in the record these took 88 B of every lead and account, though most never
// change tier (the simulated market routes about 47 times per 1 000 events) and fewer
// still have an outcome.
struct EntityHistory {
  uint32_t changes = 0;  // tier changes so far: part of the routing id (a change makes the history)
  // feedback.suppress: in tier `suppressed` while clock < suppressed_until (a later
  // outcome only extends it); suppressed_by is the outcome kind that set the end.
  int64_t suppressed_until = kLongAgo;
  int64_t last_outcome_at_ms = 0;
  uint32_t outcomes = 0;
  uint8_t outcome_active = 0;  // bit k: outcome kind k has been scored
  OutcomeKind suppressed_by = OutcomeKind::kUnspecified;
  OutcomeKind last_outcome = OutcomeKind::kUnspecified;
  std::vector<TierChange> recent;
  // feedback.signals: sums like `signals`, by outcome kind number; empty until the
  // entity has had one (most never do). An account's are the sums of its leads' and
  // of outcomes that named the account alone.
  std::vector<SignalSum> outcome_signals;
  // Outcomes scored as signals, for dedupe: (key, occurred_at_ms), within the dedupe
  // window. Outcomes have no id: the key digests routing_id, kind, time and entity ids.
  std::vector<std::pair<uint64_t, int64_t>> outcomes_seen;

  // Another history's outcome sums added into these, kind by kind (a lead's into its
  // account's, a lead's two halves after a handoff; both at the same clock).
  void AddOutcomeSums(const EntityHistory& from) {
    if (!from.outcome_active) return;
    outcome_signals.resize(model::kOutcomeKindNames.size());
    AddSums(outcome_signals, from.outcome_signals, from.outcome_active);
    outcome_active |= from.outcome_active;
  }

  // Nothing but the defaults: what an entity without a history reads as.
  bool empty() const {
    return changes == 0 && suppressed_until == kLongAgo && last_outcome_at_ms == 0 && outcomes == 0 &&
           outcome_active == 0 && suppressed_by == OutcomeKind::kUnspecified &&
           last_outcome == OutcomeKind::kUnspecified && recent.empty() && outcome_signals.empty() &&
           outcomes_seen.empty();
  }
};

// Members are in the order an event reads them: what every event and check touches
// first (clock, sums, slots, fit, checks), then what only profile changes and the
// store read, then the small numbers and the flags, packed into the last bytes (a
// lead's own small ones follow in the same 8 B: LeadState). Tier changes and outcomes
// are out of line (EntityHistory). What the store knows of an entity's check is kept
// with its listing for TakeChanges, not here (EntityTable::Mark).
struct EntityCommon {
  int64_t clock = 0;
  uint64_t active = 0;             // bit s: signal s has had an event
  // The active signals' sums, in signal order: signals[i] is the sum of the i-th set bit
  // of `active` (Sum). Most leads have had one or two of the model's signals, and many
  // none: a sum for every signal took 144 B of each lead.
  CompactVector<SignalSum> signals;
  // The model's slots, read from the whole profile, and the whole profile (every
  // field), in one block; slots only while has_profile.
  ProfileBlock profile;
  double fit = 0;
  int64_t due = kNever;            // next decay check
  int64_t profile_at_ms = kLongAgo;

 private:
  OutOfLine<EntityHistory> history_;

 public:
  int32_t disqualify_rule = -1;
  int16_t tier = 0;
  bool exists : 1 = false;
  bool dirty : 1 = false;          // changed since the last TakeChanges
  bool has_profile : 1 = false;
  bool disqualified : 1 = false;

  // Its tier changes and outcomes (EntityHistory): none until it has one.
  const EntityHistory& history() const { return history_.get() ? *history_.get() : kNoHistory; }
  EntityHistory& mutable_history() { return history_.make(); }
  bool has_history() const { return history_.get() != nullptr; }

  // Where signal s's sum is in `signals` (whether or not it is active).
  size_t SumIndex(size_t s) const {
    return static_cast<size_t>(__builtin_popcountll(active & ((uint64_t{1} << s) - 1)));
  }
  // The sum of an active signal.
  SignalSum& Sum(size_t s) { return signals[SumIndex(s)]; }
  const SignalSum& Sum(size_t s) const { return signals[SumIndex(s)]; }
  // The sum of signal s, made active (at 0) if it was not.
  SignalSum& ActiveSum(size_t s) {
    const size_t i = SumIndex(s);
    if (!(active >> s & 1)) {
      // Grown to fit: a signal becomes active once in an entity's life, not often enough
      // to leave room for the next.
      if (signals.size() == signals.capacity()) signals.reserve(signals.size() + 1);
      signals.insert(signals.begin() + static_cast<std::ptrdiff_t>(i), SignalSum{});
      active |= uint64_t{1} << s;
    }
    return signals[i];
  }

 private:
  static inline const EntityHistory kNoHistory{};
};

// An event the burst filter holds: what scoring it later needs (its id is remembered
// for dedupe when it arrives).
struct HeldEvent {
  int64_t at_ms = 0;
  uint16_t signal = 0;
  std::vector<model::FieldValue> attributes;  // the model's event.attributes slots
};

// A run of a lead's held events: events less than `within` apart by occurred_at. It is
// decided when stream time reaches `release_at_ms` (its first arrival + `within`).
struct HeldRun {
  int64_t release_at_ms = 0;
  int64_t first_ms = 0, last_ms = 0;  // occurred_at of its earliest and latest events
  uint32_t count = 0;                 // events in the run
  std::vector<HeldEvent> events{};    // empty once count reaches the burst size: dropped whole
};

// 96 B: always within two cache lines, as record_pool.h keeps its chunks line-aligned
// (CompactStateTest checks the size).
struct LeadState : EntityCommon {
  int8_t role = -1;  // committee role index (at most 64 roles), -1 when none
  EntityId account = kNoEntity;
  DedupeIds seen;                                   // dedupe: (event key, event time), and the floor at the cap
  CompactVector<HeldRun> held;                      // the burst filter's open runs, oldest first

  // When its latest scored event occurred (kLongAgo: none): the latest of its sums'.
  // Read where the lead joins an account's contacts and when it is stored; derived
  // rather than kept, as a sum is kept for every signal the lead has had an event of.
  int64_t last_event_at_ms() const {
    int64_t last = kLongAgo;
    for (const SignalSum& s : signals) last = std::max(last, s.last_at_ms);
    return last;
  }
};

// Aligned to a line, so its 128 B are always two lines (120 B would straddle three).
struct alignas(kCacheLine) AccountState : EntityCommon {
  // [role * signals + signal], at clock, in events. None (every sum 0) until one of its
  // leads with a role has an event: most accounts a CRM keeps have no recent engagement,
  // and the sums of every role and signal took 256 B of each (at ten leads an account,
  // 23 B of the 275 B an entity that pipeline_bench's engine row read with profiles only).
  CompactVector<double> role_values;
  CompactVector<std::pair<EntityId, int64_t>> contacts;  // lead, last event time
  CompactVector<EntityId> leads;
  uint64_t touched = 0;  // engine epoch of the last change or load: eviction picks the oldest
  // When each committee role next crosses role_min_intent, as last solved (by role;
  // kLongAgo: not solved), and whether the role was engaged then (bit r). Decay alone
  // does not move a crossing, so a time holds until the role's sums change otherwise
  // (AddToRole; ForgetRoleCrossings after a wholesale change), the clock reaches it or
  // the role's engagement flips: an account's check then solves one root or none
  // instead of one per role. Stored with the account (under the model that solved
  // them), so an account read back is checked at the moments the one kept in memory is.
  CompactVector<int64_t> role_crossing;
  uint64_t role_crossing_engaged = 0;

  // Role r's sum of signal s (0 while the account has none).
  double RoleSum(size_t role, size_t n_signals, size_t signal) const {
    return role_values.empty() ? 0 : role_values[role * n_signals + signal];
  }
  // The one way a role's sums change other than by decay (or wholesale, below); the
  // first change makes them all, at 0.
  void AddToRole(int role, size_t n_roles, size_t n_signals, size_t signal, double delta) {
    if (role_values.empty()) role_values.assign(n_roles * n_signals, 0.0);
    role_values[static_cast<size_t>(role) * n_signals + signal] += delta;
    if (static_cast<size_t>(role) < role_crossing.size()) role_crossing[static_cast<size_t>(role)] = kLongAgo;
  }
  void RememberRoleCrossing(size_t role, int64_t at, bool engaged) {
    role_crossing[role] = at;
    role_crossing_engaged = (role_crossing_engaged & ~(uint64_t{1} << role)) | (uint64_t{engaged} << role);
  }
  void ForgetRoleCrossings() {
    role_crossing.clear();
    role_crossing_engaged = 0;
  }
  // Every role's sums 0 (none kept) and their crossings unsolved: before the sums are
  // added again from the leads (a model change's re-evaluation).
  void ClearRoleSums() {
    role_values = CompactVector<double>();
    ForgetRoleCrossings();
  }
};

// What conditions see for a lead (its profile, its account's, an event's attributes)
// or for an account alone. An unknown profile is a view of none: every condition on it is false.
// A lead not loaded (nullptr) is a lead whose profile is unknown.
inline model::FieldContext LeadContext(const LeadState* l, const AccountState* a,
                                       const model::FieldValue* event = nullptr) {
  return {l && l->has_profile ? l->profile.view() : model::SlotView(),
          a && a->has_profile ? a->profile.view() : model::SlotView(), event};
}
inline model::FieldContext LeadContext(const LeadState& l, const AccountState* a,
                                       const model::FieldValue* event = nullptr) {
  return LeadContext(&l, a, event);
}
inline model::FieldContext AccountContext(const AccountState& a) {
  return {nullptr, a.has_profile ? a.profile.view() : model::SlotView(), nullptr};
}

}  // namespace leadscore::engine
