// Evaluation after a change: an entity's tier is decided again (tiers.h), a move
// becomes a routing event with a stable id, and the entity's next decay check is
// scheduled. Every input and every decay check ends here. Internal to src/engine/;
// one per Engine, not thread-safe.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "engine/engine.h"
#include "engine/entity_table.h"
#include "engine/scorer.h"
#include "engine/timer_queue.h"

namespace leadscore::engine {

class Evaluator {
 public:
  Evaluator(const Scorer& scorer, EntityTable& table, TimerQueue& timers, const EngineOptions& options,
            EngineStats& stats)
      : scorer_(scorer), m_(scorer.model()), table_(table), timers_(timers), options_(options), stats_(stats) {}

  // At the entity clock: the caller has decayed the entity to the time it means.
  void EvaluateLead(EntityId id, LeadState& l, std::vector<RoutingEvent>* out);
  void EvaluateAccount(EntityId id, AccountState& a, std::vector<RoutingEvent>* out);
  // As EvaluateAccount, after events were scored into the account and nothing else
  // changed it since its last evaluation: a kept tier keeps its check when
  // Scorer::AccountDueHoldsAfterEvents says it still holds.
  void EvaluateAccountAfterEvents(EntityId id, AccountState& a, std::vector<RoutingEvent>* out);

  // Put before the reason of every routing event until cleared (a model change:
  // "model OLD -> NEW"); empty: none.
  void set_reason_prefix(std::string prefix) { reason_prefix_ = std::move(prefix); }

 private:
  RoutingEvent MakeEvent(EntityKind kind, const EntityCommon& e, const model::EntityPolicy& p, int16_t to,
                         const Measures& ms) const;
  void Record(EntityCommon& e, int16_t to, RoutingEvent& ev, std::vector<RoutingEvent>* out);
  // Decides the account's tier and records a move; the measures it decided on.
  Measures DecideAccount(EntityId id, AccountState& a, std::vector<RoutingEvent>* out);

  static constexpr size_t kTopFactors = 5;  // factors carried by a routing event

  const Scorer& scorer_;
  const model::Model& m_;
  EntityTable& table_;
  TimerQueue& timers_;
  const EngineOptions& options_;
  EngineStats& stats_;
  std::string reason_prefix_;
};

}  // namespace leadscore::engine
