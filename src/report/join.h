// SPEC section 2's join of sales outcomes to the routing events they answer: the one
// named by routing_id; when it is empty, the latest UP routing event of the outcome's
// lead (of its account when lead_id is empty) at or before occurred_at_ms. An outcome
// that answers nothing known is unmatched: counted and kept, never dropped.
#pragma once

#include <cstddef>
#include <vector>

#include "codec/codec.h"
#include "engine/engine.h"

namespace leadscore::report {

struct Joined {
  // Per routing event (same index), the outcomes that answer it, by occurred_at_ms.
  std::vector<std::vector<size_t>> answers;
  std::vector<size_t> unmatched;  // outcome indices, in input order
  size_t by_routing_id = 0, by_time = 0;
};

// `routed` in the order the routing events happened (a tie in time goes to the later).
Joined Join(const std::vector<engine::RoutingEvent>& routed, const std::vector<codec::WireOutcome>& outcomes);

}  // namespace leadscore::report
