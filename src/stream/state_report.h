// The calibration report (SPEC section 7) over the routing snapshots a service's state
// keeps: every routing event of the given partitions with the outcomes the service
// joined to it as they arrived, and the outcomes that answered none. GET /v1/report
// reads the running service's store; `leadscore report --config` a state dir.
//
// Thread-safe as the store is: reads committed state, never waits for a batch.
#pragma once

#include <cstdint>
#include <vector>

#include "common/status.h"
#include "model/model.h"
#include "report/report.h"
#include "store/state_store.h"

namespace leadscore::stream {

// The partitions' snapshots in the order the events happened (by occurred_at_ms; within
// a partition, as they were routed), and their unmatched outcomes.
struct StateRoutings {
  std::vector<codec::RoutingSnapshot> routed;
  std::vector<codec::WireOutcome> unmatched;
};
Result<StateRoutings> ReadRoutings(const store::StateStore& store, const std::vector<int32_t>& partitions);

Result<report::Report> ReportFromState(const store::StateStore& store, const std::vector<int32_t>& partitions,
                                       const model::Model& model);

}  // namespace leadscore::stream
