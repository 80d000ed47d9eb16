#include "store/hot_set.h"

#include <type_traits>
#include <variant>

namespace leadscore::store {

Status LoadEntity(const StateStore& store, int32_t partition, engine::Engine& engine, engine::EntityKind kind,
                  const std::string& id) {
  engine::IdTable& ids = kind == engine::EntityKind::kLead ? engine.lead_ids() : engine.account_ids();
  const engine::EntityId known = ids.Find(id);
  if (known != engine::kNoEntity && engine.Known(kind, known)) return Status::Ok();
  auto stored = store.Get(partition, kind, id);
  if (!stored.ok()) return stored.status();
  if (!stored->has_value()) return Status::Ok();  // new: the engine creates it
  if (kind == engine::EntityKind::kLead) {
    auto account = engine.StoredLeadAccount((*stored)->bytes);
    if (!account.ok()) return account.status();
    LEADSCORE_RETURN_IF_ERROR(LoadEntity(store, partition, engine, engine::EntityKind::kAccount, *account));
  }
  return engine.Restore(kind, id, (*stored)->bytes, (*stored)->due_ms);
}

Status LoadFor(const StateStore& store, int32_t partition, engine::Engine& engine, const engine::Input& input) {
  using engine::EntityKind;
  // Copies: loading interns ids, which may move the tables' strings.
  auto lead = [&](engine::EntityId id) {
    return id == engine::kNoEntity
               ? Status::Ok()
               : LoadEntity(store, partition, engine, EntityKind::kLead, std::string(engine.lead_ids().Name(id)));
  };
  auto account = [&](engine::EntityId id) {
    return id == engine::kNoEntity
               ? Status::Ok()
               : LoadEntity(store, partition, engine, EntityKind::kAccount, std::string(engine.account_ids().Name(id)));
  };
  auto account_and_leads = [&](engine::EntityId id) {
    LEADSCORE_RETURN_IF_ERROR(account(id));
    for (engine::EntityId l : engine.LeadsOf(id)) LEADSCORE_RETURN_IF_ERROR(lead(l));
    return Status::Ok();
  };
  return std::visit(
      [&](const auto& in) -> Status {
        using T = std::decay_t<decltype(in)>;
        if constexpr (std::is_same_v<T, engine::AccountProfileInput>) {
          return account_and_leads(in.account);  // re-scores every lead of the account
        } else if constexpr (std::is_same_v<T, engine::ForgetInput>) {
          return in.lead != engine::kNoEntity ? lead(in.lead) : account_and_leads(in.account);
        } else {
          LEADSCORE_RETURN_IF_ERROR(account(in.account));
          return lead(in.lead);
        }
      },
      input);
}

Status LoadDue(const StateStore& store, int32_t partition, engine::Engine& engine, int64_t until_ms,
               int64_t from_ms) {
  std::vector<DueEntity> due;
  LEADSCORE_RETURN_IF_ERROR(store.DueBy(partition, until_ms, &due, from_ms));
  for (const auto& d : due) LEADSCORE_RETURN_IF_ERROR(LoadEntity(store, partition, engine, d.kind, d.id));
  return Status::Ok();
}

}  // namespace leadscore::store
