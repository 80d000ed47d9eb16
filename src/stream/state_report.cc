#include "stream/state_report.h"

#include <algorithm>
#include <tuple>

namespace leadscore::stream {

Result<StateRoutings> ReadRoutings(const store::StateStore& store, const std::vector<int32_t>& partitions) {
  StateRoutings out;
  // Per partition the store gives time order; across partitions they are merged by time
  // (the partition, then the order within it, break ties: the same order every read).
  std::vector<std::tuple<int64_t, size_t, size_t>> order;  // time, partition index, index in routed
  for (size_t p = 0; p < partitions.size(); ++p) {
    LEADSCORE_RETURN_IF_ERROR(store.ForEachRouting(partitions[p], [&](std::string_view bytes) -> Status {
      auto snapshot = codec::DecodeSnapshot(bytes);
      if (!snapshot.ok()) return snapshot.status();
      order.emplace_back(snapshot->event.occurred_at_ms, p, out.routed.size());
      out.routed.push_back(std::move(*snapshot));
      return Status::Ok();
    }));
    LEADSCORE_RETURN_IF_ERROR(store.ForEachUnmatched(partitions[p], [&](std::string_view bytes) -> Status {
      auto o = codec::DecodeOutcome(bytes, codec::Format::kProtobuf);
      if (!o.ok() || !o->has_value()) return Status::Corruption("an unmatched outcome that does not decode");
      out.unmatched.push_back(std::move(**o));
      return Status::Ok();
    }));
  }
  std::sort(order.begin(), order.end());
  std::vector<codec::RoutingSnapshot> sorted;
  sorted.reserve(order.size());
  for (const auto& [at, p, i] : order) sorted.push_back(std::move(out.routed[i]));
  out.routed = std::move(sorted);
  return out;
}

Result<report::Report> ReportFromState(const store::StateStore& store, const std::vector<int32_t>& partitions,
                                       const model::Model& model) {
  auto routings = ReadRoutings(store, partitions);
  if (!routings.ok()) return routings.status();
  return report::BuildReportFromJoined(model, routings->routed, routings->unmatched);
}

}  // namespace leadscore::stream
