// Records of any leadscore topic as JSON lines (export) and sales outcomes read back
// from JSON lines (backtest): the protobuf side of the tools, kept in the codec.
#include <google/protobuf/util/json_util.h>

#include "codec/proto_json.h"
#include "codec/codec.h"
#include "leadscore/v1/leadscore.pb.h"

namespace leadscore::codec {
namespace {

namespace v1 = ::leadscore::v1;
using google::protobuf::Message;

bool NoUnknownFields(const Message& m) { return m.GetReflection()->GetUnknownFields(m).empty(); }

// The body of an Input, when one is set.
const Message* BodyOf(const v1::Input& in) {
  switch (in.body_case()) {
    case v1::Input::kEvent: return &in.event();
    case v1::Input::kLead: return &in.lead();
    case v1::Input::kAccount: return &in.account();
    case v1::Input::kOutcome: return &in.outcome();
    case v1::Input::kForget: return &in.forget();
    default: return nullptr;
  }
}

std::string InputJson(const v1::Input& in) {
  google::protobuf::util::JsonPrintOptions opts;
  opts.preserve_proto_field_names = true;
  std::string out;
  (void)google::protobuf::util::MessageToJsonString(in, &out, opts);
  return out;
}

std::string RoutingJson(const v1::RoutingEvent& ev) {
  // As codec::ToJson prints it: every field, zeros included.
  return PrintAllFieldsJson(ev);
}

}  // namespace

Result<RecordJson> RecordToJson(std::string_view bytes) {
  const size_t first = bytes.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && bytes[first] == '{') {
    // JSON: the keys say which message it is; unknown keys are refused, so an Input
    // never passes for a RoutingEvent or the other way round.
    google::protobuf::util::JsonParseOptions strict;
    strict.ignore_unknown_fields = false;
    v1::Input in;
    if (google::protobuf::util::JsonStringToMessage(std::string(bytes), &in, strict).ok() && BodyOf(in)) {
      return RecordJson{RecordKind::kInput, InputJson(in)};
    }
    v1::RoutingEvent ev;
    if (google::protobuf::util::JsonStringToMessage(std::string(bytes), &ev, strict).ok() && !ev.routing_id().empty()) {
      return RecordJson{RecordKind::kRoutingEvent, RoutingJson(ev)};
    }
    return Status::InvalidArgument("JSON that is neither a leadscore.v1.Input nor a RoutingEvent");
  }
  // Binary: field numbers overlap between the two messages, but the wire types do not
  // (RoutingEvent's routing_id and entity against Input's event and lead), so the wrong
  // message leaves unknown fields behind.
  v1::Input in;
  if (in.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())) && BodyOf(in) && NoUnknownFields(in) &&
      NoUnknownFields(*BodyOf(in))) {
    return RecordJson{RecordKind::kInput, InputJson(in)};
  }
  v1::RoutingEvent ev;
  if (ev.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())) && !ev.routing_id().empty() &&
      NoUnknownFields(ev)) {
    return RecordJson{RecordKind::kRoutingEvent, RoutingJson(ev)};
  }
  return Status::InvalidArgument("neither a leadscore.v1.Input nor a RoutingEvent in protobuf binary (" +
                                 std::to_string(bytes.size()) + " bytes)");
}

Result<std::string> InputJsonToBinary(std::string_view json) {
  v1::Input in;
  auto st = google::protobuf::util::JsonStringToMessage(std::string(json), &in);
  if (!st.ok()) return Status::InvalidArgument("not a leadscore.v1.Input in JSON: " + std::string(st.message()));
  return in.SerializeAsString();
}

std::optional<WireOutcome> OutcomeFromJson(std::string_view json) {
  if (json.find("\"outcome\"") == std::string_view::npos) return std::nullopt;  // most lines: no parse
  v1::Input in;
  google::protobuf::util::JsonParseOptions opts;
  if (!google::protobuf::util::JsonStringToMessage(std::string(json), &in, opts).ok() || !in.has_outcome()) {
    return std::nullopt;
  }
  const v1::SalesOutcome& o = in.outcome();
  return WireOutcome{.routing_id = o.routing_id(),
                     .lead_id = o.lead_id(),
                     .account_id = o.account_id(),
                     .kind = static_cast<WireOutcomeKind>(o.kind()),
                     .reason = o.reason(),
                     .amount = o.amount(),
                     .occurred_at_ms = o.occurred_at_ms()};
}

}  // namespace leadscore::codec
