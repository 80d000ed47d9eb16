// Routing snapshots as the state keeps them, and sales outcomes as JSON: the protobuf
// side of GET /v1/routings and of the service's join, kept in the codec.
#include <google/protobuf/util/json_util.h>

#include "codec/codec.h"
#include "codec/proto_json.h"
#include "leadscore/v1/leadscore.pb.h"

namespace leadscore::codec {
namespace {

void PutFramed(std::string& out, std::string_view bytes) {
  const auto n = static_cast<uint32_t>(bytes.size());
  for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>(n >> shift);
  out.append(bytes);
}

// The next length-prefixed part of `in`, taken off it; nullopt when `in` is too short.
std::optional<std::string_view> TakeFramed(std::string_view& in) {
  if (in.size() < 4) return std::nullopt;
  uint32_t n = 0;
  for (int i = 0; i < 4; ++i) n = n << 8 | static_cast<uint8_t>(in[i]);
  if (in.size() - 4 < n) return std::nullopt;
  const std::string_view part = in.substr(4, n);
  in.remove_prefix(4 + size_t{n});
  return part;
}

}  // namespace

std::string EncodeSnapshot(const RoutingSnapshot& snapshot) {
  std::string out;
  PutFramed(out, ToBinary(snapshot.event));
  for (const WireOutcome& o : snapshot.outcomes) PutFramed(out, EncodeInput(o, Format::kProtobuf));
  return out;
}

Result<RoutingSnapshot> DecodeSnapshot(std::string_view bytes) {
  const auto event = TakeFramed(bytes);
  if (!event) return Status::Corruption("routing snapshot: truncated");
  auto ev = RoutingEventFromBinary(*event);
  if (!ev.ok()) return Status::Corruption("routing snapshot: " + ev.status().message());
  RoutingSnapshot s{std::move(*ev), {}};
  while (!bytes.empty()) {
    const auto part = TakeFramed(bytes);
    if (!part) return Status::Corruption("routing snapshot: truncated outcome");
    auto o = DecodeOutcome(*part, Format::kProtobuf);
    if (!o.ok() || !o->has_value()) return Status::Corruption("routing snapshot: an outcome that does not decode");
    s.outcomes.push_back(std::move(**o));
  }
  return s;
}

std::string OutcomeToJson(const WireOutcome& o) {
  leadscore::v1::SalesOutcome p;
  p.set_routing_id(o.routing_id);
  p.set_lead_id(o.lead_id);
  p.set_account_id(o.account_id);
  p.set_kind(static_cast<leadscore::v1::SalesOutcome::Kind>(o.kind));
  p.set_reason(o.reason);
  p.set_amount(o.amount);
  p.set_occurred_at_ms(o.occurred_at_ms);
  return PrintAllFieldsJson(p);
}

std::string_view OutcomeKindName(WireOutcomeKind kind) {
  switch (kind) {
    case WireOutcomeKind::kAccepted: return "ACCEPTED";
    case WireOutcomeKind::kRejected: return "REJECTED";
    case WireOutcomeKind::kOpportunityCreated: return "OPPORTUNITY_CREATED";
    case WireOutcomeKind::kClosedWon: return "CLOSED_WON";
    case WireOutcomeKind::kClosedLost: return "CLOSED_LOST";
    case WireOutcomeKind::kUnspecified: break;
  }
  return "KIND_UNSPECIFIED";
}

}  // namespace leadscore::codec
