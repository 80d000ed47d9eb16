// What each input, and each decay check that stream time makes due, does to the
// entities (SPEC.md section 3): filters, dedupe and event points, the burst filter's
// hold and the end of its runs, profiles (with a lead's role or account changing),
// outcomes, Forget. Each ends in an evaluation of the entities it touched. Internal to
// src/engine/; one per Engine, not thread-safe.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include "engine/engine.h"
#include "engine/entity_table.h"
#include "engine/evaluator.h"
#include "engine/held_spares.h"
#include "engine/scorer.h"
#include "engine/snapshot_codec.h"
#include "engine/timer_queue.h"

namespace leadscore::engine {

class Transitions {
 public:
  Transitions(const Scorer& scorer, const SnapshotCodec& codec, EntityTable& table, TimerQueue& timers,
              Evaluator& evaluator, const EngineOptions& options, EngineStats& stats)
      : scorer_(scorer),
        codec_(codec),
        m_(scorer.model()),
        n_signals_(scorer.signals()),
        n_roles_(m_.committee.roles.size()),
        table_(table),
        timers_(timers),
        evaluator_(evaluator),
        options_(options),
        stats_(stats),
        burst_(m_.burst_filter >= 0 ? &m_.filters[m_.burst_filter] : nullptr) {}

  ApplyResult Apply(const Input& input, std::vector<RoutingEvent>* out);
  // Fires every decay check due up to `now`, in time order, then moves stream time on.
  void Advance(int64_t now, std::vector<RoutingEvent>* out);
  void ResumeAt(int64_t stream_time) { stream_time_ = std::max(stream_time_, stream_time); }
  void BoundTimeBy(int64_t clock) { clock_bound_ = clock; }
  int64_t stream_time() const { return stream_time_; }
  Settled TakeSettled() { return std::exchange(settled_, Settled{}); }
  std::vector<Handoff> TakeHandoffs() { return std::exchange(handoffs_, {}); }

 private:
  ApplyResult ApplyOne(const EventInput& e, std::vector<RoutingEvent>* out);
  ApplyResult ApplyOne(const LeadProfileInput& p, std::vector<RoutingEvent>* out);
  ApplyResult ApplyOne(const AccountProfileInput& p, std::vector<RoutingEvent>* out);
  ApplyResult ApplyOne(const OutcomeInput& o, std::vector<RoutingEvent>* out);
  ApplyResult ApplyOne(const ForgetInput& f, std::vector<RoutingEvent>* out);
  // A lead changing partition (handoff.cc).
  ApplyResult ApplyOne(const LeadReleaseInput& r, std::vector<RoutingEvent>* out);
  ApplyResult ApplyOne(const LeadAdoptInput& a, std::vector<RoutingEvent>* out);
  // The released lead's state added to the lead held here: sums, dedupe memory, held
  // runs, the newer profile, the tier it had and its routing history.
  void Merge(LeadState& into, LeadState&& from);
  // Merge's part for the two sides' tier changes and outcomes.
  void MergeHistory(EntityHistory& into, EntityHistory&& from) const;

  // The first `when` filter the event matches, from the profiles known now; -1: none.
  int MatchingWhenFilter(const EventInput& e) const;
  // An event's points into its lead and the lead's account, decayed from its own time
  // to `st` (both entities are at `st`), with the multipliers that match now.
  void Score(EntityId lid, LeadState& l, AccountState& a, uint16_t signal, int64_t at,
             const std::vector<model::FieldValue>& attributes, int64_t st);
  // The burst filter: the event joins the lead's run it is less than `within` apart from
  // (bridged runs merge), or opens a run that ends `within` after `st`. Returns when the
  // run it is in ends.
  int64_t Hold(LeadState& l, const EventInput& e, int64_t st);
  // At a lead's check at `t`: the runs ended by then are dropped or scored.
  bool RunEnded(const LeadState& l, int64_t t) const;
  void EndRuns(EntityId lid, LeadState& l, int64_t t, std::vector<RoutingEvent>* out);
  static uint64_t HeldCount(const LeadState& l);

  void Remember(LeadState& l, uint64_t key, int64_t at, int64_t st);
  uint64_t OutcomeKey(const OutcomeInput& o) const;
  bool RememberOutcome(EntityCommon& e, uint64_t key, int64_t at, int64_t st);
  void TouchContact(AccountState& a, EntityId lead, int64_t last);

  AccountState& GetOrCreateAccount(EntityId id);
  LeadState& GetOrCreateLead(EntityId id, EntityId account, std::vector<RoutingEvent>* out);
  void Detach(EntityId lid, LeadState& l, AccountState& a);
  void Attach(EntityId lid, LeadState& l, AccountState& a);
  void MoveLead(EntityId lid, EntityId to, std::vector<RoutingEvent>* out);

  const Scorer& scorer_;
  const SnapshotCodec& codec_;
  const model::Model& m_;
  const size_t n_signals_;
  const size_t n_roles_;
  EntityTable& table_;
  TimerQueue& timers_;
  Evaluator& evaluator_;
  const EngineOptions& options_;
  EngineStats& stats_;
  const model::Filter* const burst_;  // the model's burst filter, if any
  int64_t stream_time_ = 0;
  // Records are not taken later than this (Engine::BoundTimeBy); max: no clock.
  int64_t clock_bound_ = std::numeric_limits<int64_t>::max();
  Settled settled_;  // since the last TakeSettled
  std::vector<Handoff> handoffs_;  // since the last TakeHandoffs
  HeldSpares spares_;              // the burst filter's containers, reused
};

}  // namespace leadscore::engine
