// The edge between wire records (leadscore.v1 protobuf, binary or JSON) and the
// engine's plain structs: decoding validates every required field, checks the Kafka
// key, interns ids and resolves field values to the model's slots once, so the
// engine never sees protobuf or looks a field up by name. The other way, plain wire
// structs (wire.h, part of this face) are encoded into Input records.
//
// A Decoder is bound to one model and one engine's id tables; not thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "codec/options.h"
#include "codec/wire.h"
#include "common/status.h"
#include "engine/engine.h"

namespace leadscore::codec {

class Decoder {
 public:
  Decoder(const model::Model& model, engine::IdTable& leads, engine::IdTable& accounts,
          DecoderOptions options = {});

  // `key` is the Kafka key, when there is one: it must equal the account_id.
  // An error's message is the readable reason that goes with a dead letter; its
  // reason<Refusal>() says why as a value.
  Result<engine::Input> Decode(std::string_view bytes, Format format,
                               std::optional<std::string_view> key = std::nullopt);

  DecoderOptions& options() { return options_; }

 private:
  const model::Model& model_;
  engine::IdTable& leads_;
  engine::IdTable& accounts_;
  DecoderOptions options_;
};

// The sales outcome an Input record holds, field for field with its reason and ids as
// text (the report joins them to routing events, which name entities by id); nullopt
// when the record is another kind of Input. Refused as Decoder::Decode refuses an
// outcome (unparseable, no account_id, no kind), so the two agree on which count.
Result<std::optional<WireOutcome>> DecodeOutcome(std::string_view bytes, Format format);

// Why a record was refused, carried as the refusal Status's reason (status.reason<Refusal>()).
enum class Refusal : uint8_t { kUnparseable = 1, kMissingField, kKeyMismatch, kBadTime, kTooLarge, kEmpty, kBadId };
inline constexpr Refusal kAllRefusals[] = {Refusal::kUnparseable, Refusal::kMissingField, Refusal::kKeyMismatch,
                                           Refusal::kBadTime,     Refusal::kTooLarge,     Refusal::kEmpty,
                                           Refusal::kBadId};
// A short, stable name for metrics and headers: "unparseable" (also JSON with a key
// twice), "missing_field", "key_mismatch" (also a missing Kafka key), "bad_time",
// "too_large", "empty", "bad_id" (an id that is not printable UTF-8).
std::string_view RefusalName(Refusal reason);

// RoutingEvent on the wire: the protobuf JSON mapping with the proto field names and
// every field printed (zeros included), or binary protobuf.
std::string ToJson(const engine::RoutingEvent& ev);
std::string ToBinary(const engine::RoutingEvent& ev);

// Both directions for tests and tools: a wire RoutingEvent back to the plain struct.
Result<engine::RoutingEvent> RoutingEventFromJson(std::string_view json);
Result<engine::RoutingEvent> RoutingEventFromBinary(std::string_view bytes);

// A routing event as published with the sales outcomes that answered it, in the order
// they were applied: what a service's state keeps per routing_id (SPEC section 2), what
// GET /v1/routings shows and the report reads back.
struct RoutingSnapshot {
  engine::RoutingEvent event;
  std::vector<WireOutcome> outcomes;
};
// Bytes for the state: the RoutingEvent's binary protobuf and each outcome's Input,
// each behind its length (u32 BE). Decoding refuses bytes that are not that.
std::string EncodeSnapshot(const RoutingSnapshot& snapshot);
Result<RoutingSnapshot> DecodeSnapshot(std::string_view bytes);
// A SalesOutcome in the protobuf JSON mapping with every field printed, as a routing
// event is (ToJson): the outcomes beside a routing event in GET /v1/routings.
std::string OutcomeToJson(const WireOutcome& outcome);
// "ACCEPTED", "REJECTED", ... as in the proto ("KIND_UNSPECIFIED" for none): metric labels.
std::string_view OutcomeKindName(WireOutcomeKind kind);

// A record of any leadscore topic, recognised from its bytes (export): an Input (binary
// protobuf or JSON) or a RoutingEvent (either too). Binary protobuf is taken as the
// message it parses as with no unknown field, which tells the two apart.
enum class RecordKind { kInput, kRoutingEvent };
struct RecordJson {
  RecordKind kind = RecordKind::kInput;
  std::string json;  // one line: Inputs as `replay` reads them, routing events as it writes them
};
Result<RecordJson> RecordToJson(std::string_view bytes);

// A JSON line of Input as binary protobuf (tests and tools that produce history).
Result<std::string> InputJsonToBinary(std::string_view json);

// A SalesOutcome held by a JSON line of Input; nullopt for any other line (backtest).
std::optional<WireOutcome> OutcomeFromJson(std::string_view json);

}  // namespace leadscore::codec
