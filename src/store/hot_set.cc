#include "store/hot_set.h"

#include <type_traits>
#include <variant>

#include "store/keys.h"

namespace leadscore::store {

namespace {
bool Held(engine::Engine& engine, engine::EntityKind kind, const std::string& id) {
  engine::IdTable& ids = kind == engine::EntityKind::kLead ? engine.lead_ids() : engine.account_ids();
  const engine::EntityId known = ids.Find(id);
  return known != engine::kNoEntity && engine.Known(kind, known);
}
}  // namespace

std::string ReadAhead::Name(engine::EntityKind kind, std::string_view id) {
  std::string name(1, keys::KindByte(kind));
  name.append(id);
  return name;
}

Status ReadAhead::Read(const StateStore& store, int32_t partition, engine::Engine& engine,
                       std::span<const EntityKey> wanted) {
  std::vector<EntityKey> keys;
  std::vector<std::optional<StoredEntity>*> slots;  // beside keys (an unordered_map's values stay put)
  for (const EntityKey& k : wanted) {
    if (Held(engine, k.kind, k.id)) continue;
    auto [it, fresh] = read_.try_emplace(Name(k.kind, k.id));
    if (!fresh) continue;
    slots.push_back(&it->second);
    keys.push_back(k);
  }
  std::vector<std::optional<StoredEntity>> values;
  if (Status s = store.GetMany(partition, keys, &values); !s.ok()) {
    read_.clear();  // nothing half read is taken for "the store has none"
    return s;
  }
  for (size_t i = 0; i < slots.size(); ++i) *slots[i] = std::move(values[i]);
  return Status::Ok();
}

std::optional<std::optional<StoredEntity>> ReadAhead::Take(engine::EntityKind kind, const std::string& id) {
  auto it = read_.find(Name(kind, id));
  if (it == read_.end()) return std::nullopt;
  // "None stored" stays: a new id named again before the batch creates it is not read
  // again. Bytes are taken once (the engine then holds the entity).
  if (!it->second) return std::optional<StoredEntity>();
  std::optional<std::optional<StoredEntity>> taken(std::move(it->second));
  read_.erase(it);
  return taken;
}

Status LoadEntity(const StateStore& store, int32_t partition, engine::Engine& engine, engine::EntityKind kind,
                  const std::string& id, ReadAhead* ahead) {
  if (Held(engine, kind, id)) return Status::Ok();
  std::optional<StoredEntity> stored;
  if (auto taken = ahead ? ahead->Take(kind, id) : std::nullopt) {
    stored = std::move(*taken);
  } else {
    auto got = store.Get(partition, kind, id);
    if (!got.ok()) return got.status();
    stored = std::move(*got);
  }
  if (!stored) return Status::Ok();  // new: the engine creates it
  if (kind == engine::EntityKind::kLead) {
    auto account = engine.StoredLeadAccount(stored->bytes);
    if (!account.ok()) return account.status();
    LEADSCORE_RETURN_IF_ERROR(LoadEntity(store, partition, engine, engine::EntityKind::kAccount, *account, ahead));
  }
  return engine.Restore(kind, id, stored->bytes, stored->due_ms);
}

namespace {

// Calls `fn(kind, id)` for what an input names directly; `each_lead_of(account)` for an
// account whose every lead it touches (known only once the account is loaded).
template <typename Fn, typename EachLeadOf>
Status ForNamed(const engine::Input& input, Fn&& fn, EachLeadOf&& each_lead_of) {
  using engine::EntityKind;
  auto lead = [&](engine::EntityId id) { return id == engine::kNoEntity ? Status::Ok() : fn(EntityKind::kLead, id); };
  auto account = [&](engine::EntityId id) {
    return id == engine::kNoEntity ? Status::Ok() : fn(EntityKind::kAccount, id);
  };
  auto account_and_leads = [&](engine::EntityId id) {
    LEADSCORE_RETURN_IF_ERROR(account(id));
    return id == engine::kNoEntity ? Status::Ok() : each_lead_of(id);
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

// Copies: loading interns ids, which may move the tables' strings.
std::string NameOf(engine::Engine& engine, engine::EntityKind kind, engine::EntityId id) {
  return std::string(kind == engine::EntityKind::kLead ? engine.lead_ids().Name(id) : engine.account_ids().Name(id));
}

}  // namespace

Status LoadFor(const StateStore& store, int32_t partition, engine::Engine& engine,
               std::span<const engine::Input> inputs) {
  std::vector<EntityKey> wanted;
  for (const engine::Input& in : inputs) {
    (void)ForNamed(
        in,
        [&](engine::EntityKind kind, engine::EntityId id) {
          if (!engine.Known(kind, id)) wanted.push_back({kind, NameOf(engine, kind, id)});
          return Status::Ok();
        },
        [](engine::EntityId) { return Status::Ok(); });
  }
  ReadAhead ahead;
  LEADSCORE_RETURN_IF_ERROR(ahead.Read(store, partition, engine, wanted));
  auto load = [&](engine::EntityKind kind, engine::EntityId id) {
    // Most are held: known by id, without copying and looking up the name.
    return engine.Known(kind, id) ? Status::Ok()
                                  : LoadEntity(store, partition, engine, kind, NameOf(engine, kind, id), &ahead);
  };
  auto each_lead_of = [&](engine::EntityId account) {
    for (engine::EntityId l : engine.LeadsOf(account)) LEADSCORE_RETURN_IF_ERROR(load(engine::EntityKind::kLead, l));
    return Status::Ok();
  };
  for (const engine::Input& in : inputs) LEADSCORE_RETURN_IF_ERROR(ForNamed(in, load, each_lead_of));
  return Status::Ok();
}

Status LoadDue(const StateStore& store, int32_t partition, engine::Engine& engine, int64_t until_ms,
               int64_t from_ms) {
  std::vector<DueEntity> due;
  LEADSCORE_RETURN_IF_ERROR(store.DueBy(partition, until_ms, &due, from_ms));
  ReadAhead ahead;
  LEADSCORE_RETURN_IF_ERROR(ahead.Read(store, partition, engine, due));
  for (const auto& d : due) LEADSCORE_RETURN_IF_ERROR(LoadEntity(store, partition, engine, d.kind, d.id, &ahead));
  return Status::Ok();
}

}  // namespace leadscore::store
