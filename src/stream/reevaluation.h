// Every stored entity of a partition evaluated under an engine's model (SPEC section 3,
// "Changing the model"): the pass a model change runs on each partition, the rewrite of
// a state in an older format, and the dry run that only counts. Accounts are taken in
// key order, a page at a time; each is restored with all its leads and re-evaluated
// (engine::Engine::Reevaluate), and the caller is handed each page with the routing
// events it caused: the task writes it (state, outbox and progress marker in one
// write), the dry run counts it. Stateless itself.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "engine/engine.h"
#include "server/backend.h"
#include "store/state_store.h"

namespace leadscore::stream {

// Accounts per page: what one write of a pass holds (and the work a kill -9 loses).
inline constexpr size_t kReevaluateChunk = 1000;

// The reason prefix of the routing events a change causes: "model OLD -> NEW".
std::string ModelChangeReason(std::string_view from_version, std::string_view to_version);

struct ReevaluatePage {
  std::vector<std::string> accounts;           // in key order: the last one is the progress marker
  std::vector<engine::RoutingEvent> events;    // the tier changes, in the order they happened
  uint64_t leads = 0;                          // leads re-evaluated with the accounts
};

// Pages through the partition's stored accounts after `after` (empty: from the first),
// `chunk` at a time, each account restored into `engine` (with its leads) unless it is
// loaded already, then re-evaluated with `reason` as the events' reason prefix.
// `on_page` is called after each page, the page's changes still in the engine
// (TakeChanges): it writes or drops them, and may evict. An error from either stops
// the pass there.
Status ReevaluateStored(const store::StateStore& store, int32_t partition, engine::Engine& engine, std::string after,
                        size_t chunk, std::string_view reason,
                        const std::function<Status(ReevaluatePage& page)>& on_page);

// The dry run of one partition: a scratch engine under `model` reads the committed
// state (at stream time `stream_time_ms`) and the tier every entity is in and would be
// in is counted into `moves`. Writes nothing.
Status DryRunPartition(const store::StateStore& store, int32_t partition, std::shared_ptr<const model::Model> model,
                       const engine::EngineOptions& options, int64_t stream_time_ms, server::TierMoves* moves);

}  // namespace leadscore::stream
