// What each input, and each decay check that stream time makes due, does to the
// entities (SPEC.md section 3): dedupe and event points, profiles (with a lead's role
// or account changing), outcomes, Forget. Each ends in an evaluation of the entities
// it touched. Internal to src/engine/; one per Engine, not thread-safe.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "engine/engine.h"
#include "engine/entity_table.h"
#include "engine/evaluator.h"
#include "engine/scorer.h"
#include "engine/timer_queue.h"

namespace leadscore::engine {

class Transitions {
 public:
  Transitions(const Scorer& scorer, EntityTable& table, TimerQueue& timers, Evaluator& evaluator,
              const EngineOptions& options, EngineStats& stats)
      : scorer_(scorer),
        m_(scorer.model()),
        n_signals_(scorer.signals()),
        table_(table),
        timers_(timers),
        evaluator_(evaluator),
        options_(options),
        stats_(stats) {}

  ApplyOutcome Apply(const Input& input, std::vector<RoutingEvent>* out);
  // Fires every decay check due up to `now`, in time order, then moves stream time on.
  void Advance(int64_t now, std::vector<RoutingEvent>* out);
  void ResumeAt(int64_t stream_time) { stream_time_ = std::max(stream_time_, stream_time); }
  int64_t stream_time() const { return stream_time_; }

 private:
  ApplyOutcome ApplyOne(const EventInput& e, std::vector<RoutingEvent>* out);
  ApplyOutcome ApplyOne(const LeadProfileInput& p, std::vector<RoutingEvent>* out);
  ApplyOutcome ApplyOne(const AccountProfileInput& p, std::vector<RoutingEvent>* out);
  ApplyOutcome ApplyOne(const OutcomeInput& o, std::vector<RoutingEvent>* out);
  ApplyOutcome ApplyOne(const ForgetInput& f, std::vector<RoutingEvent>* out);

  void Remember(LeadState& l, uint64_t key, int64_t at, int64_t st);
  void TouchContact(AccountState& a, EntityId lead, int64_t last);

  AccountState& GetOrCreateAccount(EntityId id);
  LeadState& GetOrCreateLead(EntityId id, EntityId account, std::vector<RoutingEvent>* out);
  void Detach(EntityId lid, LeadState& l, AccountState& a);
  void Attach(EntityId lid, LeadState& l, AccountState& a);
  void MoveLead(EntityId lid, EntityId to, std::vector<RoutingEvent>* out);

  const Scorer& scorer_;
  const model::Model& m_;
  const size_t n_signals_;
  EntityTable& table_;
  TimerQueue& timers_;
  Evaluator& evaluator_;
  const EngineOptions& options_;
  EngineStats& stats_;
  int64_t stream_time_ = 0;
};

}  // namespace leadscore::engine
