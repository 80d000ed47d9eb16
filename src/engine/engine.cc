#include "engine/engine.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "common/hash.h"
#include "engine/decay.h"
#include "engine/explain.h"
#include "engine/entity_table.h"
#include "engine/snapshot_codec.h"
#include "engine/state.h"
#include "engine/tiers.h"
#include "engine/timer_queue.h"

namespace leadscore::engine {

namespace {

int64_t AddDt(int64_t clock, double dt) {
  if (!(dt < 1e15)) return kNever;  // also NaN
  int64_t t = clock + static_cast<int64_t>(std::floor(dt));
  return std::max(t, clock + 1);
}

}  // namespace

class Engine::Impl {
 public:
  Impl(std::shared_ptr<const model::Model> model, EngineOptions options)
      : model_(std::move(model)), m_(*model_), options_(options), n_signals_(m_.signals.size()) {
    half_life_.reserve(n_signals_);
    for (const auto& s : m_.signals) half_life_.push_back(static_cast<double>(s.half_life.ms));
  }

  // ---------------------------------------------------------------------------------
  void Apply(const Input& input, std::vector<RoutingEvent>* out) {
    ++stats_.inputs;
    std::visit([&](const auto& in) { ApplyOne(in, out); }, input);
  }

  void Advance(int64_t now, std::vector<RoutingEvent>* out) {
    Timer t;
    while (timers_.PopDue(now, &t)) {
      ++stats_.decay_checks;
      if (t.kind == EntityKind::kLead) {
        LeadState& l = *table_.FindLead(t.id);
        DecayLead(l, t.due);
        EvaluateLead(t.id, l, out);
      } else {
        AccountState& a = *table_.FindAccount(t.id);
        DecayAccount(a, t.due);
        EvaluateAccount(t.id, a, out);
      }
    }
    stream_time_ = std::max(stream_time_, now);
  }

  int64_t stream_time() const { return stream_time_; }
  const EngineStats& stats() const { return stats_; }
  const model::Model& model() const { return m_; }
  IdTable& lead_ids() { return table_.lead_ids(); }
  IdTable& account_ids() { return table_.account_ids(); }

  std::optional<EntityView> ViewLead(std::string_view id) const {
    EntityId lid = table_.lead_ids().Find(id);
    const LeadState* l = table_.FindLead(lid);
    if (!l) return std::nullopt;
    LeadState copy = *l;
    const int64_t at = std::max(stream_time_, copy.clock);
    DecayLead(copy, at);
    const AccountState* a = table_.FindAccount(copy.account);
    EntityView v;
    v.id = table_.lead_ids().Name(lid);
    v.account_id = table_.account_ids().Name(copy.account);
    Measures ms = LeadMeasures(copy);
    FillView(copy, ms, m_.lead, &v);
    v.factors = LeadFactors(m_, copy, a, SIZE_MAX);
    v.as_of_ms = at;
    return v;
  }

  std::optional<EntityView> ViewAccount(std::string_view id) const {
    EntityId aid = table_.account_ids().Find(id);
    const AccountState* a = table_.FindAccount(aid);
    if (!a) return std::nullopt;
    AccountState copy = *a;
    const int64_t at = std::max(stream_time_, copy.clock);
    DecayAccount(copy, at);
    EntityView v;
    v.id = table_.account_ids().Name(aid);
    v.account_id = v.id;
    Measures ms = AccountMeasures(copy);
    FillView(copy, ms, m_.account, &v);
    v.factors = AccountFactors(m_, copy, SIZE_MAX);
    for (size_t r = 0; r < m_.committee.roles.size(); ++r) {
      if (ms.role_mask >> r & 1) v.committee_roles.push_back(m_.committee.roles[r]);
    }
    v.engaged_contacts = ms.engaged_contacts;
    v.coverage = ms.coverage;
    v.lead_count = static_cast<int32_t>(copy.leads.size());
    v.as_of_ms = at;
    return v;
  }

 public:
  void TakeChanges(std::vector<Engine::Change>* out) { table_.TakeChanges(codec_, out); }

  Status Restore(EntityKind kind, std::string_view id, std::string_view bytes, int64_t stored_due) {
    if (kind == EntityKind::kAccount) {
      const EntityId aid = table_.account_ids().Intern(id);
      if (table_.Known(kind, aid)) return Status::InvalidArgument("account '" + std::string(id) + "' is already loaded");
      AccountState a;
      LEADSCORE_RETURN_IF_ERROR(codec_.DecodeAccount(id, bytes, table_.lead_ids(), &a));
      a.exists = true;
      RecomputeAccountFit(a);
      const int64_t due = AccountNextDue(a, AccountMeasures(a));
      a.persisted_due = stored_due;
      table_.InsertAccount(aid, std::move(a));
      timers_.Schedule(EntityKind::kAccount, aid, due);
      return Status::Ok();
    }
    const EntityId lid = table_.lead_ids().Intern(id);
    if (table_.Known(kind, lid)) return Status::InvalidArgument("lead '" + std::string(id) + "' is already loaded");
    LeadState l;
    std::string account;
    LEADSCORE_RETURN_IF_ERROR(codec_.DecodeLead(id, bytes, &l, &account));
    l.account = table_.account_ids().Intern(account);
    if (!table_.FindAccount(l.account)) {
      return Status::Corruption("lead '" + std::string(id) + "' names account '" + account + "' that is not stored");
    }
    l.exists = true;
    l.role = l.has_profile ? m_.committee.RoleOf(l.fields[model::kLeadRole]) : -1;
    RecomputeLeadFit(l);
    const int64_t due = LeadNextDue(l, LeadMeasures(l));
    l.persisted_due = stored_due;
    table_.InsertLead(lid, std::move(l));
    timers_.Schedule(EntityKind::kLead, lid, due);
    return Status::Ok();
  }

  void ResumeAt(int64_t stream_time) { stream_time_ = std::max(stream_time_, stream_time); }

  // ---- residency ------------------------------------------------------------------------
  bool Known(EntityKind kind, EntityId id) const { return table_.Known(kind, id); }

  Result<std::string> StoredLeadAccount(std::string_view bytes) const {
    return codec_.LeadAccount(bytes);
  }

  std::vector<EntityId> LeadsOf(EntityId account) const { return table_.LeadsOf(account); }
  size_t loaded_leads() const { return table_.loaded_leads(); }
  size_t loaded_accounts() const { return table_.loaded_accounts(); }
  void Evict(size_t max_entities) {
    table_.Evict(max_entities, [&](const EntityCommon& e) { timers_.Drop(e); });
  }

 private:
  // ---- entity lookup and lifecycle ---------------------------------------------------
  AccountState& GetOrCreateAccount(EntityId id) {
    if (AccountState* known = table_.FindAccount(id)) return *known;
    AccountState& a = table_.AddAccount(id);
    a.clock = stream_time_;
    a.signals.resize(n_signals_);
    a.role_values.assign(m_.committee.roles.size() * n_signals_, 0.0);
    RecomputeAccountFit(a);
    a.tier = BirthTier(a, m_.account);  // silently
    return a;
  }

  // The lead, created in `account` if new, or moved to it if it was elsewhere.
  LeadState& GetOrCreateLead(EntityId id, EntityId account, std::vector<RoutingEvent>* out) {
    if (LeadState* known = table_.FindLead(id)) {
      if (known->account != account) MoveLead(id, account, out);
      return *known;
    }
    LeadState& l = table_.AddLead(id);
    l.clock = stream_time_;
    l.signals.resize(n_signals_);
    l.account = account;
    AccountState& a = *table_.FindAccount(account);
    a.leads.push_back(id);
    RecomputeLeadFit(l);
    l.tier = BirthTier(l, m_.lead);  // silently
    table_.MarkAccount(account);
    return l;
  }

  static int16_t LowestTier(const model::EntityPolicy& p) { return static_cast<int16_t>(p.tiers.size() - 1); }
  // An entity is born in the lowest tier, or in `disqualified` if it is from the start.
  static int16_t BirthTier(const EntityCommon& e, const model::EntityPolicy& p) {
    return e.disqualified ? kDisqualifiedTier : LowestTier(p);
  }

  // Takes the lead's contribution out of its account (signal sums, role sums, contact).
  void Detach(EntityId lid, LeadState& l, AccountState& a) {
    DecayLead(l, stream_time_);
    DecayAccount(a, stream_time_);
    for (size_t s = 0; s < n_signals_; ++s) {
      if (!(l.active >> s & 1)) continue;
      a.signals[s].value -= l.signals[s].value;
      a.signals[s].count -= l.signals[s].count;
      if (l.role >= 0) a.role_values[l.role * n_signals_ + s] -= l.signals[s].value;
    }
    std::erase_if(a.contacts, [&](const auto& c) { return c.first == lid; });
    std::erase(a.leads, lid);
  }

  void Attach(EntityId lid, LeadState& l, AccountState& a) {
    DecayLead(l, stream_time_);
    DecayAccount(a, stream_time_);
    for (size_t s = 0; s < n_signals_; ++s) {
      if (!(l.active >> s & 1)) continue;
      a.signals[s].value += l.signals[s].value;
      a.signals[s].count += l.signals[s].count;
      a.signals[s].last_at_ms = std::max(a.signals[s].last_at_ms, l.signals[s].last_at_ms);
      if (l.role >= 0) a.role_values[l.role * n_signals_ + s] += l.signals[s].value;
    }
    a.active |= l.active;
    if (l.last_event_at_ms != kLongAgo) TouchContact(a, lid, l.last_event_at_ms);
    a.leads.push_back(lid);
  }

  void MoveLead(EntityId lid, EntityId to, std::vector<RoutingEvent>* out) {
    LeadState& l = *table_.FindLead(lid);
    const EntityId from = l.account;
    table_.MarkLead(lid);
    table_.MarkAccount(from);
    table_.MarkAccount(to);
    AccountState& old = *table_.FindAccount(from);
    Detach(lid, l, old);
    EvaluateAccount(from, old, out);
    AccountState& a = GetOrCreateAccount(to);
    l.account = to;
    Attach(lid, l, a);
    RecomputeLeadFit(l);
  }

  // ---- decay -------------------------------------------------------------------------
  void DecayLead(LeadState& l, int64_t t) const {
    if (t <= l.clock) return;
    const int64_t dt = t - l.clock;
    for (uint64_t bits = l.active; bits; bits &= bits - 1) {
      const int s = __builtin_ctzll(bits);
      l.signals[s].value *= DecayFactor(dt, half_life_[s]);
    }
    l.clock = t;
  }

  void DecayAccount(AccountState& a, int64_t t) const {
    if (t <= a.clock) return;
    const int64_t dt = t - a.clock;
    const size_t roles = m_.committee.roles.size();
    for (uint64_t bits = a.active; bits; bits &= bits - 1) {
      const int s = __builtin_ctzll(bits);
      const double f = DecayFactor(dt, half_life_[s]);
      a.signals[s].value *= f;
      for (size_t r = 0; r < roles; ++r) a.role_values[r * n_signals_ + s] *= f;
    }
    a.clock = t;
  }

  // ---- fit ----------------------------------------------------------------------------
  // Fit and disqualification from the rules; an account counts only the rules that
  // name account.* fields alone.
  void ApplyFitRules(const model::FieldContext& ctx, bool account_only, EntityCommon& e) const {
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
  void RecomputeLeadFit(LeadState& l) const { ApplyFitRules(LeadContext(l, table_.FindAccount(l.account)), false, l); }
  void RecomputeAccountFit(AccountState& a) const { ApplyFitRules(AccountContext(a), true, a); }

  // ---- measures -----------------------------------------------------------------------
  Measures LeadMeasures(const LeadState& l) const {
    Measures ms;
    ms.fit = l.fit;
    double sum = 0;
    for (uint64_t bits = l.active; bits; bits &= bits - 1) {
      const int s = __builtin_ctzll(bits);
      sum += std::min(m_.signals[s].cap, l.signals[s].value);
    }
    ms.intent = Clamp100(sum);
    ms.score = m_.lead.fit_weight * ms.fit + m_.lead.intent_weight * ms.intent;
    ms.disqualified = l.disqualified;
    ms.disqualify_rule = l.disqualify_rule;
    return ms;
  }

  double RoleValue(const AccountState& a, size_t r) const {
    double w = 0;
    for (uint64_t bits = a.active; bits; bits &= bits - 1) w += a.role_values[r * n_signals_ + __builtin_ctzll(bits)];
    return w;
  }

  Measures AccountMeasures(const AccountState& a) const {
    Measures ms;
    ms.fit = a.fit;
    double sum = 0;
    for (uint64_t bits = a.active; bits; bits &= bits - 1) {
      const int s = __builtin_ctzll(bits);
      sum += std::min(m_.signals[s].account_cap, a.signals[s].value);
    }
    ms.intent = Clamp100(sum);
    const model::Committee& c = m_.committee;
    double covered = 0;
    for (size_t r = 0; r < c.roles.size(); ++r) {
      if (RoleValue(a, r) >= c.role_min_intent) {
        covered += c.weights[r];
        ms.role_mask |= uint64_t{1} << r;
        ++ms.engaged_roles;
      }
    }
    ms.coverage = c.total_weight > 0 ? 100.0 * covered / c.total_weight : 0;
    const int64_t window_start = a.clock - c.contact_window_ms;  // engaged: last in (start, clock]
    for (const auto& [lead, last] : a.contacts) {
      if (last > window_start && last <= a.clock) ++ms.engaged_contacts;
    }
    ms.score = m_.account.fit_weight * ms.fit + m_.account.intent_weight * ms.intent +
               m_.account.committee_weight * ms.coverage;
    ms.disqualified = a.disqualified;
    ms.disqualify_rule = a.disqualify_rule;
    return ms;
  }

  // ---- next decay check -------------------------------------------------------------
  // A lower bound on when decay alone can change the tier: thresholds on score become
  // thresholds on intent (fit and, between committee changes, coverage are constant).
  int64_t NextDue(const EntityCommon& e, const model::EntityPolicy& p, const DecayEnvelope& env, double constant,
                  const Measures& ms) const {
    if (e.tier == kDisqualifiedTier) return kNever;
    const double b = p.intent_weight;
    double dt = kInf;
    const auto lowest = LowestTier(p);
    if (e.tier != lowest) {
      const model::Tier& t = p.tiers[e.tier];
      double theta = -kInf;
      if (t.min_score && b > 0) theta = std::max(theta, (*t.min_score - p.hysteresis - constant) / b);
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

  int64_t LeadNextDue(const LeadState& l, const Measures& ms) const {
    if (l.tier == kDisqualifiedTier) return kNever;
    DecayEnvelope env;
    for (uint64_t bits = l.active; bits; bits &= bits - 1) {
      const int s = __builtin_ctzll(bits);
      env.Add(std::min(m_.signals[s].cap, l.signals[s].value), half_life_[s]);
    }
    if (l.tier == LowestTier(m_.lead) && env.neg >= 0) return kNever;  // nothing can move by decay
    return NextDue(l, m_.lead, env, m_.lead.fit_weight * ms.fit, ms);
  }

  int64_t AccountNextDue(const AccountState& a, const Measures& ms) const {
    if (a.tier == kDisqualifiedTier) return kNever;
    DecayEnvelope env;
    bool any_negative = false;
    for (uint64_t bits = a.active; bits; bits &= bits - 1) {
      const int s = __builtin_ctzll(bits);
      env.Add(std::min(m_.signals[s].account_cap, a.signals[s].value), half_life_[s]);
      any_negative |= m_.signals[s].points < 0;
    }
    if (a.tier == LowestTier(m_.account) && !any_negative) return kNever;
    const model::EntityPolicy& p = m_.account;
    int64_t due = NextDue(a, p, env, p.fit_weight * ms.fit + p.committee_weight * ms.coverage, ms);
    // Committee changes: a contact leaving the window, a role crossing role_min_intent.
    const model::Committee& c = m_.committee;
    for (const auto& [lead, last] : a.contacts) {
      if (last > a.clock - c.contact_window_ms) due = std::min(due, std::max(last + c.contact_window_ms, a.clock + 1));
    }
    for (size_t r = 0; r < c.roles.size(); ++r) {
      DecayEnvelope role_env;
      for (uint64_t bits = a.active; bits; bits &= bits - 1) {
        const int s = __builtin_ctzll(bits);
        role_env.Add(a.role_values[r * n_signals_ + s], half_life_[s]);
      }
      const bool engaged = (ms.role_mask >> r) & 1;
      double dt = engaged ? EarliestBelow(role_env, c.role_min_intent) : EarliestAtLeast(role_env, c.role_min_intent);
      due = std::min(due, AddDt(a.clock, dt));
    }
    return due;
  }

  // ---- evaluation ---------------------------------------------------------------------
  void EvaluateLead(EntityId id, LeadState& l, std::vector<RoutingEvent>* out) {
    const Measures ms = LeadMeasures(l);
    const int16_t to = DecideTier(m_.lead, l.tier, ms);
    if (to != l.tier) {
      table_.MarkLead(id);
      RoutingEvent ev = MakeEvent(EntityKind::kLead, l, m_.lead, to, ms);
      ev.lead_id = table_.lead_ids().Name(id);
      ev.account_id = table_.account_ids().Name(l.account);
      ev.factors = LeadFactors(m_, l, table_.FindAccount(l.account), kTopFactors);
      Record(l, to, ev, out);
    }
    timers_.Schedule(EntityKind::kLead, id, LeadNextDue(l, ms));
  }

  void EvaluateAccount(EntityId id, AccountState& a, std::vector<RoutingEvent>* out) {
    PruneContacts(a);
    const Measures ms = AccountMeasures(a);
    const int16_t to = DecideTier(m_.account, a.tier, ms);
    if (to != a.tier) {
      table_.MarkAccount(id);
      RoutingEvent ev = MakeEvent(EntityKind::kAccount, a, m_.account, to, ms);
      ev.account_id = table_.account_ids().Name(id);
      ev.factors = AccountFactors(m_, a, kTopFactors);
      for (size_t r = 0; r < m_.committee.roles.size(); ++r) {
        if (ms.role_mask >> r & 1) ev.committee_roles.push_back(m_.committee.roles[r]);
      }
      ev.engaged_contacts = ms.engaged_contacts;
      Record(a, to, ev, out);
    }
    timers_.Schedule(EntityKind::kAccount, id, AccountNextDue(a, ms));
  }

  RoutingEvent MakeEvent(EntityKind kind, const EntityCommon& e, const model::EntityPolicy& p, int16_t to,
                         const Measures& ms) const {
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
    if (to != kDisqualifiedTier) {
      const model::Tier& t = p.tiers[to];
      if (t.sla) ev.sla_due_at_ms = DueAt(e.clock, *t.sla);
      ev.action = t.action;
      ev.feedback = t.feedback;
    }
    ev.reason = TierReason(m_, p, e.tier, to, ms);
    return ev;
  }

  // Gives the event its id, applies the change to the entity and emits it.
  void Record(EntityCommon& e, int16_t to, RoutingEvent& ev, std::vector<RoutingEvent>* out) {
    const std::string& entity_id = ev.entity == EntityKind::kLead ? ev.lead_id : ev.account_id;
    auto digest = [&](uint64_t seed) {
      return Hasher(seed)
          .Bytes(m_.version)
          .Int(static_cast<uint64_t>(ev.entity))
          .Bytes(entity_id)
          .Int(e.changes)
          .Bytes(ev.from_tier)
          .Bytes(ev.to_tier)
          .Int(static_cast<uint64_t>(ev.occurred_at_ms))
          .Digest();
    };
    char id[33];
    std::snprintf(id, sizeof id, "%016llx%016llx", static_cast<unsigned long long>(digest(1)),
                  static_cast<unsigned long long>(digest(2)));
    ev.routing_id = id;
    e.recent.push_back({e.tier, to, ev.occurred_at_ms, ev.routing_id});
    if (e.recent.size() > options_.recent_changes) e.recent.erase(e.recent.begin());
    e.tier = to;
    ++e.changes;
    ++stats_.routing_events;
    out->push_back(std::move(ev));
  }

  // ---- inputs -------------------------------------------------------------------------
  void ApplyOne(const EventInput& e, std::vector<RoutingEvent>* out) {
    if (e.signal == kUnknownSignal || e.signal >= n_signals_) {
      ++stats_.skipped_unknown_signal;
      return;
    }
    if (e.occurred_at_ms > stream_time_) Advance(e.occurred_at_ms, out);
    const int64_t st = stream_time_;
    if (e.occurred_at_ms <= st - options_.dedupe_window_ms) {
      ++stats_.skipped_too_late;
      return;
    }
    if (const LeadState* known = table_.FindLead(e.lead)) {
      if (e.occurred_at_ms <= known->dedupe_floor_ms) {
        ++stats_.skipped_too_late;
        return;
      }
      for (const auto& [key, at] : known->seen) {
        if (key == e.event_key) {
          ++stats_.skipped_duplicate;
          return;
        }
      }
    }
    AccountState& a0 = GetOrCreateAccount(e.account);
    (void)a0;
    LeadState& l = GetOrCreateLead(e.lead, e.account, out);
    AccountState& a = *table_.FindAccount(e.account);  // may have moved in memory
    table_.MarkLead(e.lead);
    table_.MarkAccount(e.account);
    Remember(l, e.event_key, e.occurred_at_ms, st);
    DecayLead(l, st);
    DecayAccount(a, st);

    const model::Signal& sig = m_.signals[e.signal];
    double m = 1;
    if (!sig.multipliers.empty()) {
      const model::FieldContext ctx =
          LeadContext(l, &a, e.attributes.size() == m_.layout.event_slots() ? e.attributes.data() : nullptr);
      for (uint16_t mi : sig.multipliers) {
        if (m_.multipliers[mi].when.Matches(ctx)) m *= m_.multipliers[mi].factor;
      }
    }
    const double w = sig.points * m * DecayFactor(st - e.occurred_at_ms, half_life_[e.signal]);
    const uint64_t bit = uint64_t{1} << e.signal;
    for (EntityCommon* ent : {static_cast<EntityCommon*>(&l), static_cast<EntityCommon*>(&a)}) {
      SignalSum& sum = ent->signals[e.signal];
      sum.value += w;
      ++sum.count;
      sum.last_at_ms = std::max(sum.last_at_ms, e.occurred_at_ms);
      ent->active |= bit;
    }
    if (l.role >= 0) a.role_values[l.role * n_signals_ + e.signal] += w;
    l.last_event_at_ms = std::max(l.last_event_at_ms, e.occurred_at_ms);
    TouchContact(a, e.lead, l.last_event_at_ms);
    ++stats_.events_scored;
    EvaluateLead(e.lead, l, out);
    EvaluateAccount(e.account, a, out);
  }

  void Remember(LeadState& l, uint64_t key, int64_t at, int64_t st) {
    const int64_t horizon = st - options_.dedupe_window_ms;
    if (l.seen.size() >= 8 && l.seen.front().second <= horizon) {
      std::erase_if(l.seen, [&](const auto& s) { return s.second <= horizon; });
    }
    if (l.seen.size() >= options_.dedupe_max_ids_per_lead) {
      // Forget the oldest; the lead's horizon moves up to it.
      auto oldest = std::min_element(l.seen.begin(), l.seen.end(),
                                     [](const auto& x, const auto& y) { return x.second < y.second; });
      l.dedupe_floor_ms = std::max(l.dedupe_floor_ms, oldest->second);
      l.seen.erase(oldest);
    }
    l.seen.emplace_back(key, at);
  }

  void TouchContact(AccountState& a, EntityId lead, int64_t last) {
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

  void PruneContacts(AccountState& a) {
    const int64_t start = a.clock - m_.committee.contact_window_ms;
    if (!a.contacts.empty()) std::erase_if(a.contacts, [&](const auto& c) { return c.second <= start; });
  }

  void ApplyOne(const LeadProfileInput& p, std::vector<RoutingEvent>* out) {
    if (const LeadState* known = table_.FindLead(p.lead); known && p.updated_at_ms < known->profile_at_ms) {
      ++stats_.profiles_stale;
      return;
    }
    ++stats_.profiles_applied;
    GetOrCreateAccount(p.account);
    const bool born = !table_.FindLead(p.lead);
    LeadState& l = GetOrCreateLead(p.lead, p.account, out);
    AccountState& a = *table_.FindAccount(p.account);
    table_.MarkLead(p.lead);
    table_.MarkAccount(p.account);
    const int64_t st = stream_time_;
    DecayLead(l, st);
    DecayAccount(a, st);
    l.fields = p.fields;
    l.fields.resize(m_.layout.lead_slots());
    l.has_profile = true;
    l.profile_at_ms = p.updated_at_ms;
    const int role = m_.committee.RoleOf(l.fields[model::kLeadRole]);
    const bool role_changed = role != l.role;
    if (role_changed) {
      for (size_t s = 0; s < n_signals_; ++s) {
        if (!(l.active >> s & 1)) continue;
        if (l.role >= 0) a.role_values[l.role * n_signals_ + s] -= l.signals[s].value;
        if (role >= 0) a.role_values[role * n_signals_ + s] += l.signals[s].value;
      }
      l.role = role;
    }
    RecomputeLeadFit(l);
    if (born) l.tier = BirthTier(l, m_.lead);  // born with its first profile
    EvaluateLead(p.lead, l, out);
    if (role_changed) EvaluateAccount(p.account, a, out);
  }

  void ApplyOne(const AccountProfileInput& p, std::vector<RoutingEvent>* out) {
    if (const AccountState* known = table_.FindAccount(p.account); known && p.updated_at_ms < known->profile_at_ms) {
      ++stats_.profiles_stale;
      return;
    }
    ++stats_.profiles_applied;
    const bool born = !table_.FindAccount(p.account);
    AccountState& a = GetOrCreateAccount(p.account);
    table_.MarkAccount(p.account);
    const int64_t st = stream_time_;
    DecayAccount(a, st);
    a.fields = p.fields;
    a.fields.resize(m_.layout.account_slots());
    a.has_profile = true;
    a.profile_at_ms = p.updated_at_ms;
    RecomputeAccountFit(a);
    if (born) a.tier = BirthTier(a, m_.account);  // born with its first profile
    // Lead fit reads account fields too: every lead of the account may move.
    for (EntityId lid : a.leads) {
      LeadState* l = table_.FindLead(lid);
      if (!l) continue;  // not loaded: a caller that keeps a hot set loads them first
      DecayLead(*l, st);
      RecomputeLeadFit(*l);
      EvaluateLead(lid, *l, out);
    }
    EvaluateAccount(p.account, a, out);
  }

  void ApplyOne(const OutcomeInput& o, std::vector<RoutingEvent>*) {
    ++stats_.outcomes;
    EntityCommon* e = nullptr;
    if (LeadState* l = table_.FindLead(o.lead)) {
      e = l;
      table_.MarkLead(o.lead);
    } else if (AccountState* a = table_.FindAccount(o.account)) {
      e = a;
      table_.MarkAccount(o.account);
    }
    if (!e) return;
    e->last_outcome = o.kind;
    e->last_outcome_at_ms = o.occurred_at_ms;
    ++e->outcomes;
  }

  void ApplyOne(const ForgetInput& f, std::vector<RoutingEvent>* out) {
    ++stats_.forgets;
    if (f.lead != kNoEntity) {
      LeadState* l = table_.FindLead(f.lead);
      if (!l) return;
      const EntityId aid = l->account;
      AccountState& a = *table_.FindAccount(aid);
      Detach(f.lead, *l, a);
      table_.MarkAccount(aid);
      table_.MarkLead(f.lead);
      timers_.Drop(*l);  // its heap entry goes stale
      table_.EraseLead(f.lead);
      EvaluateAccount(aid, a, out);
      return;
    }
    AccountState* a = table_.FindAccount(f.account);
    if (!a) return;
    for (EntityId lid : a->leads) {
      const LeadState* l = table_.FindLead(lid);
      if (!l) continue;  // not loaded: a caller that keeps a hot set loads them first
      table_.MarkLead(lid);
      timers_.Drop(*l);
      table_.EraseLead(lid);
    }
    table_.MarkAccount(f.account);
    timers_.Drop(*a);
    table_.EraseAccount(f.account);
  }

  void FillView(const EntityCommon& e, const Measures& ms, const model::EntityPolicy& p, EntityView* v) const {
    v->fit = ms.fit;
    v->intent = ms.intent;
    v->score = ms.score;
    v->grade = m_.GradeOf(ms.fit);
    v->tier = TierName(p, e.tier);
    v->disqualified = e.disqualified;
    for (const auto& s : e.signals) v->signal_points.push_back(s.value);
    for (const auto& c : e.recent) v->recent_changes.push_back({TierName(p, c.from), TierName(p, c.to), c.at_ms, c.routing_id});
    v->next_check_ms = e.due;
  }

  static constexpr size_t kTopFactors = 5;

  std::shared_ptr<const model::Model> model_;
  const model::Model& m_;
  EngineOptions options_;
  const size_t n_signals_;
  std::vector<double> half_life_;  // ms, per signal
  SnapshotCodec codec_{m_};

  int64_t stream_time_ = 0;
  EntityTable table_;
  TimerQueue timers_{table_};
  EngineStats stats_;
};

Engine::Engine(std::shared_ptr<const model::Model> model, EngineOptions options)
    : impl_(std::make_unique<Impl>(std::move(model), options)) {}
Engine::~Engine() = default;
void Engine::Apply(const Input& input, std::vector<RoutingEvent>* out) { impl_->Apply(input, out); }
void Engine::Advance(int64_t now_ms, std::vector<RoutingEvent>* out) { impl_->Advance(now_ms, out); }
int64_t Engine::stream_time() const { return impl_->stream_time(); }
const EngineStats& Engine::stats() const { return impl_->stats(); }
const model::Model& Engine::model() const { return impl_->model(); }
IdTable& Engine::lead_ids() { return impl_->lead_ids(); }
IdTable& Engine::account_ids() { return impl_->account_ids(); }
void Engine::TakeChanges(std::vector<Change>* out) { impl_->TakeChanges(out); }
Status Engine::Restore(EntityKind kind, std::string_view id, std::string_view bytes, int64_t stored_due_ms) {
  return impl_->Restore(kind, id, bytes, stored_due_ms);
}
void Engine::ResumeAt(int64_t stream_time_ms) { impl_->ResumeAt(stream_time_ms); }
bool Engine::Known(EntityKind kind, EntityId id) const { return impl_->Known(kind, id); }
Result<std::string> Engine::StoredLeadAccount(std::string_view bytes) const { return impl_->StoredLeadAccount(bytes); }
std::vector<EntityId> Engine::LeadsOf(EntityId account) const { return impl_->LeadsOf(account); }
size_t Engine::loaded_leads() const { return impl_->loaded_leads(); }
size_t Engine::loaded_accounts() const { return impl_->loaded_accounts(); }
void Engine::Evict(size_t max_entities) { impl_->Evict(max_entities); }
std::optional<EntityView> Engine::ViewLead(std::string_view id) const { return impl_->ViewLead(id); }
std::optional<EntityView> Engine::ViewAccount(std::string_view id) const { return impl_->ViewAccount(id); }

}  // namespace leadscore::engine
