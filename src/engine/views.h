// Views of one loaded entity for HTTP and tests, as of stream time: a copy is decayed,
// the entity itself is left as it is (reading must not change what is stored).
// Internal to src/engine/.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "engine/engine.h"
#include "engine/entity_table.h"
#include "engine/scorer.h"

namespace leadscore::engine {

std::optional<EntityView> ViewLead(const EntityTable& table, const Scorer& scorer, int64_t stream_time,
                                   std::string_view lead_id);
std::optional<EntityView> ViewAccount(const EntityTable& table, const Scorer& scorer, int64_t stream_time,
                                      std::string_view account_id);

}  // namespace leadscore::engine
