#include "stream/reevaluation.h"

#include <map>
#include <tuple>

#include "store/hot_set.h"

namespace leadscore::stream {

std::string ModelChangeReason(std::string_view from_version, std::string_view to_version) {
  std::string r = "model ";
  r.append(from_version);
  r += " -> ";
  r.append(to_version);
  return r;
}

Status ReevaluateStored(const store::StateStore& store, int32_t partition, engine::Engine& engine, std::string after,
                        size_t chunk, std::string_view reason,
                        const std::function<Status(ReevaluatePage& page)>& on_page) {
  using engine::EntityKind;
  for (;;) {
    ReevaluatePage page;
    LEADSCORE_RETURN_IF_ERROR(store.ListAccounts(partition, after, chunk, &page.accounts));
    if (page.accounts.empty()) return Status::Ok();
    // The page's accounts, then all their leads, each read with one MultiGet: every
    // account is loaded first, then each account's leads just before it is re-evaluated.
    std::vector<store::EntityKey> wanted;
    for (const std::string& id : page.accounts) wanted.push_back({EntityKind::kAccount, id});
    store::ReadAhead ahead;
    LEADSCORE_RETURN_IF_ERROR(ahead.Read(store, partition, engine, wanted));
    wanted.clear();
    std::vector<engine::EntityId> accounts;
    std::vector<std::vector<std::string>> leads_of;
    for (const std::string& id : page.accounts) {
      LEADSCORE_RETURN_IF_ERROR(store::LoadEntity(store, partition, engine, EntityKind::kAccount, id, &ahead));
      const engine::EntityId account = engine.account_ids().Find(id);
      if (account == engine::kNoEntity || !engine.Known(EntityKind::kAccount, account)) continue;
      accounts.push_back(account);
      // Copies: loading interns ids, which may move the tables' strings.
      std::vector<std::string>& leads = leads_of.emplace_back();
      for (engine::EntityId l : engine.LeadsOf(account)) {
        leads.emplace_back(engine.lead_ids().Name(l));
        wanted.push_back({EntityKind::kLead, leads.back()});
      }
    }
    LEADSCORE_RETURN_IF_ERROR(ahead.Read(store, partition, engine, wanted));
    for (size_t a = 0; a < accounts.size(); ++a) {
      for (const std::string& l : leads_of[a]) {
        LEADSCORE_RETURN_IF_ERROR(store::LoadEntity(store, partition, engine, EntityKind::kLead, l, &ahead));
      }
      page.leads += leads_of[a].size();
      engine.Reevaluate(accounts[a], reason, &page.events);
    }
    after = page.accounts.back();
    LEADSCORE_RETURN_IF_ERROR(on_page(page));
    if (page.accounts.size() < chunk) return Status::Ok();
  }
}

Status DryRunPartition(const store::StateStore& store, int32_t partition, std::shared_ptr<const model::Model> model,
                       const engine::EngineOptions& options, int64_t stream_time_ms, server::TierMoves* moves) {
  using engine::EntityKind;
  engine::Engine scratch(model, options);
  scratch.ResumeAt(stream_time_ms);
  // (entity, from, to) -> count; an entity's tier before comes from its view as loaded,
  // after from the last event Reevaluate gave it (none: it stays).
  std::map<std::tuple<std::string, std::string, std::string>, uint64_t> cells;
  for (const auto& c : moves->cells) cells[{c.entity, c.from, c.to}] += c.count;
  auto tally = [&](ReevaluatePage& page) -> Status {
    std::map<std::pair<EntityKind, std::string>, std::string> after;  // last to_tier per entity
    for (const auto& ev : page.events) {
      const bool lead = ev.entity == EntityKind::kLead;
      after[{ev.entity, lead ? ev.lead_id : ev.account_id}] = ev.to_tier;
    }
    // The tier before: the first event's from_tier when it moved, else the view's.
    std::map<std::pair<EntityKind, std::string>, std::string> before;
    for (const auto& ev : page.events) {
      const bool lead = ev.entity == EntityKind::kLead;
      before.try_emplace({ev.entity, lead ? ev.lead_id : ev.account_id}, ev.from_tier);
    }
    auto count = [&](EntityKind kind, const std::string& id) {
      const std::pair<EntityKind, std::string> key{kind, id};
      std::string from, to;
      if (auto b = before.find(key); b != before.end()) {
        from = b->second;
        to = after.at(key);
      } else {
        auto v = kind == EntityKind::kLead ? scratch.ViewLead(id) : scratch.ViewAccount(id);
        if (!v) return;
        from = to = v->tier;
      }
      ++cells[{kind == EntityKind::kLead ? "lead" : "account", from, to}];
      ++(kind == EntityKind::kLead ? moves->leads : moves->accounts);
    };
    for (const std::string& a : page.accounts) {
      const engine::EntityId account = scratch.account_ids().Find(a);
      if (account == engine::kNoEntity || !scratch.Known(EntityKind::kAccount, account)) continue;
      count(EntityKind::kAccount, a);
      for (engine::EntityId l : scratch.LeadsOf(account)) count(EntityKind::kLead, std::string(scratch.lead_ids().Name(l)));
    }
    // Nothing is written: the changes are dropped, and so is everything loaded.
    std::vector<engine::Engine::Change> dropped;
    scratch.TakeChanges(&dropped);
    scratch.Evict(0);
    return Status::Ok();
  };
  LEADSCORE_RETURN_IF_ERROR(ReevaluateStored(store, partition, scratch, "", kReevaluateChunk,
                                             ModelChangeReason(moves->from_version, moves->to_version), tally));
  moves->cells.clear();
  for (const auto& [k, n] : cells) moves->cells.push_back({std::get<0>(k), std::get<1>(k), std::get<2>(k), n});
  return Status::Ok();
}

}  // namespace leadscore::stream
