// The face of the engine: wires its units together and forwards to them.
//   EntityTable   records, residency, changes for the store, eviction  (entity_table.h)
//   SnapshotCodec an entity's bytes                                    (snapshot_codec.h)
//   TimerQueue    pending decay checks                                 (timer_queue.h)
//   Scorer        the arithmetic on one entity                         (scorer.h)
//   Evaluator     tier decisions, routing events, the next check       (evaluator.h)
//   Transitions   what inputs and stream time do to entities           (transitions.h)
#include "engine/engine.h"

#include <algorithm>
#include <utility>

#include "engine/entity_table.h"
#include "engine/evaluator.h"
#include "engine/scorer.h"
#include "engine/snapshot_codec.h"
#include "engine/timer_queue.h"
#include "engine/transitions.h"
#include "engine/views.h"

namespace leadscore::engine {

class Engine::Impl {
 public:
  Impl(std::shared_ptr<const model::Model> model, EngineOptions options)
      : model_(std::move(model)), options_(options) {}

  // Loads one stored entity and derives what is not stored (fit, role, next check). An
  // account written under this model, in this format, takes its stored check: events
  // that only added to it may have kept an earlier one than a solve would give now
  // (Scorer::AccountDueHoldsAfterEvents), and it must be checked when the account kept
  // in memory would have been.
  Status Restore(EntityKind kind, std::string_view id, std::string_view bytes, std::optional<int64_t> stored_due) {
    const int64_t persisted = stored_due.value_or(INT64_MAX);
    const model::Model& m = *model_;
    if (kind == EntityKind::kAccount) {
      const EntityId aid = table_.account_ids().Intern(id);
      if (table_.Known(kind, aid)) {
        return Status::InvalidArgument("account '" + std::string(id) + "' is already loaded");
      }
      AccountState a;
      bool ours = false;
      LEADSCORE_RETURN_IF_ERROR(codec_.DecodeAccount(id, bytes, table_.lead_ids(), &a, &ours));
      a.exists = true;
      scorer_.RecomputeAccountFit(a);
      const int64_t due = stored_due && ours ? *stored_due : scorer_.AccountNextDue(a, scorer_.AccountMeasures(a));
      table_.InsertAccount(aid, std::move(a));
      timers_.ScheduleLoaded(EntityKind::kAccount, aid, due, persisted);
      return Status::Ok();
    }
    const EntityId lid = table_.lead_ids().Intern(id);
    if (table_.Known(kind, lid)) return Status::InvalidArgument("lead '" + std::string(id) + "' is already loaded");
    LeadState l;
    std::string account;
    LEADSCORE_RETURN_IF_ERROR(codec_.DecodeLead(id, bytes, &l, &account));
    l.account = table_.account_ids().Intern(account);
    const AccountState* a = table_.FindAccount(l.account);
    if (!a) {
      return Status::Corruption("lead '" + std::string(id) + "' names account '" + account + "' that is not stored");
    }
    l.exists = true;
    l.role = l.has_profile ? m.committee.RoleOf(l.profile.slot(model::kLeadRole)) : -1;
    scorer_.RecomputeLeadFit(l, a);
    const int64_t due = scorer_.LeadNextDue(l, scorer_.LeadMeasures(l));
    table_.InsertLead(lid, std::move(l));
    timers_.ScheduleLoaded(EntityKind::kLead, lid, due, persisted);
    return Status::Ok();
  }

  // Everything the model decides, again, for an account and its loaded leads.
  void Reevaluate(EntityId aid, std::string_view reason_prefix, std::vector<RoutingEvent>* out) {
    AccountState* a = table_.FindAccount(aid);
    if (!a) return;
    const model::Model& m = *model_;
    const int64_t st = std::max(transitions_.stream_time(), a->clock);
    scorer_.DecayAccount(*a, st);
    scorer_.RecomputeAccountFit(*a);
    std::vector<std::pair<EntityId, LeadState*>> leads;
    bool all_loaded = true;
    for (EntityId lid : a->leads) {
      LeadState* l = table_.FindLead(lid);
      if (!l) {
        all_loaded = false;
        continue;
      }
      scorer_.DecayLead(*l, st);
      l->role = l->has_profile ? m.committee.RoleOf(l->profile.slot(model::kLeadRole)) : -1;
      scorer_.RecomputeLeadFit(*l, a);
      leads.emplace_back(lid, l);
    }
    // The committee's roles may be others now: the role sums are the leads' sums
    // again (at one clock), as an event would have added them.
    if (all_loaded) {
      const size_t n = m.signals.size(), n_roles = m.committee.roles.size();
      a->ClearRoleSums();
      for (const auto& [lid, l] : leads) {
        if (l->role < 0) continue;
        for (uint64_t bits = l->active; bits; bits &= bits - 1) {
          const int s = __builtin_ctzll(bits);
          a->AddToRole(l->role, n_roles, n, static_cast<size_t>(s), l->Sum(static_cast<size_t>(s)).value);
        }
      }
    }
    evaluator_.set_reason_prefix(std::string(reason_prefix));
    for (const auto& [lid, l] : leads) {
      table_.MarkLead(lid);
      evaluator_.EvaluateLead(lid, *l, out);
    }
    table_.MarkAccount(aid);
    evaluator_.EvaluateAccount(aid, *a, out);
    evaluator_.set_reason_prefix({});
  }

  // Declared in the order they are built: each unit is handed the ones above it.
  std::shared_ptr<const model::Model> model_;
  const EngineOptions options_;
  EngineStats stats_;
  EntityTable table_;
  TimerQueue timers_{table_};
  const SnapshotCodec codec_{*model_};
  const Scorer scorer_{*model_};
  Evaluator evaluator_{scorer_, table_, timers_, options_, stats_};
  Transitions transitions_{scorer_, codec_, table_, timers_, evaluator_, options_, stats_};
};

Engine::Engine(std::shared_ptr<const model::Model> model, EngineOptions options)
    : impl_(std::make_unique<Impl>(std::move(model), options)) {}
Engine::~Engine() = default;

std::string_view OutcomeName(ApplyOutcome outcome) {
  switch (outcome) {
    case ApplyOutcome::kApplied: return "applied";
    case ApplyOutcome::kUnknownSignal: return "unknown_signal";
    case ApplyOutcome::kDuplicate: return "duplicate";
    case ApplyOutcome::kTooLate: return "too_late";
    case ApplyOutcome::kStaleProfile: return "stale_profile";
    case ApplyOutcome::kFiltered: return "filtered";
    case ApplyOutcome::kHeld: return "held";
  }
  return "unknown";  // not an ApplyOutcome value
}

ApplyResult Engine::Apply(const Input& input, std::vector<RoutingEvent>* out) {
  return impl_->transitions_.Apply(input, out);
}
void Engine::Prefetch(std::span<const Input> inputs, size_t next) const {
  // A group's events in three passes, each over the whole group, so a pass's misses
  // are independent of one another and the core overlaps them: the index entries, then
  // the records they give, then hints for what the records own. Hints alone, one input
  // ahead, left most records' first read a miss (README, Performance: 2026-12-06,
  // 21:00–23:00).
  if (next % kReadAheadGroup != 0) return;
  const size_t end = std::min(inputs.size(), next + kReadAheadGroup);
  const EntityTable& t = impl_->table_;
  auto each_event = [&](auto&& f) {
    for (size_t i = next; i < end; ++i) {
      if (const auto* e = std::get_if<EventInput>(&inputs[i])) f(*e);
    }
  };
  uint64_t read = 0;
  each_event([&](const EventInput& e) { read += t.LoadIndex(e.lead, e.account); });
  each_event([&](const EventInput& e) { read += t.LoadRecords(e.lead, e.account); });
  each_event([&](const EventInput& e) { t.PrefetchContents(e.lead, e.account); });
  asm volatile("" : : "r"(read));  // the loads are kept: their value is used
}
Settled Engine::TakeSettled() { return impl_->transitions_.TakeSettled(); }
std::vector<Handoff> Engine::TakeHandoffs() { return impl_->transitions_.TakeHandoffs(); }
void Engine::Advance(int64_t now_ms, std::vector<RoutingEvent>* out) { impl_->transitions_.Advance(now_ms, out); }
void Engine::BoundTimeBy(int64_t clock_ms) { impl_->transitions_.BoundTimeBy(clock_ms); }
int64_t Engine::stream_time() const { return impl_->transitions_.stream_time(); }
int64_t Engine::NextCheckAt() const { return impl_->timers_.EarliestDue(); }
const EngineStats& Engine::stats() const { return impl_->stats_; }
const model::Model& Engine::model() const { return *impl_->model_; }
IdTable& Engine::lead_ids() { return impl_->table_.lead_ids(); }
IdTable& Engine::account_ids() { return impl_->table_.account_ids(); }

void Engine::TakeChanges(std::vector<Change>* out) { impl_->table_.TakeChanges(impl_->codec_, out); }
Status Engine::Restore(EntityKind kind, std::string_view id, std::string_view bytes,
                       std::optional<int64_t> stored_due_ms) {
  return impl_->Restore(kind, id, bytes, stored_due_ms);
}
void Engine::Reevaluate(EntityId account, std::string_view reason_prefix, std::vector<RoutingEvent>* out) {
  impl_->Reevaluate(account, reason_prefix, out);
}
void Engine::ResumeAt(int64_t stream_time_ms) { impl_->transitions_.ResumeAt(stream_time_ms); }

bool Engine::Known(EntityKind kind, EntityId id) const { return impl_->table_.Known(kind, id); }
Result<std::string> Engine::StoredLeadAccount(std::string_view bytes) const {
  return impl_->codec_.LeadAccount(bytes);
}
std::vector<EntityId> Engine::LeadsOf(EntityId account) const { return impl_->table_.LeadsOf(account); }
size_t Engine::loaded_leads() const { return impl_->table_.loaded_leads(); }
size_t Engine::loaded_accounts() const { return impl_->table_.loaded_accounts(); }
void Engine::Evict(size_t max_entities, size_t max_bytes) {
  if (max_bytes) max_entities = std::min(max_entities, impl_->table_.EntitiesWithin(max_bytes));
  impl_->table_.Evict(max_entities, [this](const EntityCommon& e) { impl_->timers_.Drop(e); });
}
size_t Engine::HotSetBytes() { return impl_->table_.EstimatedBytes(); }
size_t Engine::UnloadedSlotBytes() const { return impl_->table_.UnloadedSlotBytes(); }

std::optional<EntityView> Engine::ViewLead(std::string_view id) const {
  return engine::ViewLead(impl_->table_, impl_->scorer_, impl_->transitions_.stream_time(), id);
}
std::optional<EntityView> Engine::ViewAccount(std::string_view id) const {
  return engine::ViewAccount(impl_->table_, impl_->scorer_, impl_->transitions_.stream_time(), id);
}

}  // namespace leadscore::engine
