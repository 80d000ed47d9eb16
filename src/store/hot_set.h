// The engine as a hot set in front of RocksDB: before an input or a due decay check
// touches an entity, the entity is loaded from the store if the engine does not hold it
// (a lead with its account first). What the store does not have is new. Used by the
// service for every batch and by the HTTP views; stateless itself.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>

#include "common/status.h"
#include "engine/engine.h"
#include "store/state_store.h"

namespace leadscore::store {

// Entities read ahead of their loading with one StateStore::GetMany: LoadEntity takes
// an entity's bytes from here when they were read, and reads it alone when not. What it
// holds is true until the store is next written or the engine evicts: one per load
// phase, never kept across a commit.
class ReadAhead {
 public:
  // Reads those of `wanted` the engine does not hold, each once.
  Status Read(const StateStore& store, int32_t partition, engine::Engine& engine, std::span<const EntityKey> wanted);
  // What was read for an entity, or nothing if it was not read. Bytes are taken out; an
  // empty optional inside (the store has none) is kept for the next asking.
  std::optional<std::optional<StoredEntity>> Take(engine::EntityKind kind, const std::string& id);

 private:
  static std::string Name(engine::EntityKind kind, std::string_view id);
  std::unordered_map<std::string, std::optional<StoredEntity>> read_;  // by kind byte + id
};

// One entity by id, if the store has it and the engine does not; from `ahead` when it
// was read there.
Status LoadEntity(const StateStore& store, int32_t partition, engine::Engine& engine, engine::EntityKind kind,
                  const std::string& id, ReadAhead* ahead = nullptr);
// Everything a batch's inputs touch, in their order: each input's lead and account; for
// an account profile or an account's forget, every lead of the account. The leads and
// accounts the inputs name are read ahead together.
Status LoadFor(const StateStore& store, int32_t partition, engine::Engine& engine,
               std::span<const engine::Input> inputs);
// Every entity whose decay check is due at or before `until_ms` (the timer index), from
// `from_ms` on (StateStore::DueBy), read ahead together.
Status LoadDue(const StateStore& store, int32_t partition, engine::Engine& engine, int64_t until_ms,
               int64_t from_ms = std::numeric_limits<int64_t>::min());

}  // namespace leadscore::store
