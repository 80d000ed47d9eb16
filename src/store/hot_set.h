// The engine as a hot set in front of RocksDB: before an input or a due decay check
// touches an entity, the entity is loaded from the store if the engine does not hold it
// (a lead with its account first). What the store does not have is new. Used by the
// service for every batch and by the HTTP views; stateless itself.
#pragma once

#include <cstdint>
#include <limits>
#include <string>

#include "common/status.h"
#include "engine/engine.h"
#include "store/state_store.h"

namespace leadscore::store {

// One entity by id, if the store has it and the engine does not.
Status LoadEntity(const StateStore& store, int32_t partition, engine::Engine& engine, engine::EntityKind kind,
                  const std::string& id);
// Everything `input` touches: its lead and account; for an account profile or an
// account's forget, every lead of the account.
Status LoadFor(const StateStore& store, int32_t partition, engine::Engine& engine, const engine::Input& input);
// Every entity whose decay check is due at or before `until_ms` (the timer index), from
// `from_ms` on (StateStore::DueBy).
Status LoadDue(const StateStore& store, int32_t partition, engine::Engine& engine, int64_t until_ms,
               int64_t from_ms = std::numeric_limits<int64_t>::min());

}  // namespace leadscore::store
