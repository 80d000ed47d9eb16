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

#include "codec/wire.h"
#include "common/status.h"
#include "engine/engine.h"

namespace leadscore::codec {

struct DecoderOptions {
  // Events before this are refused (DLQ): clocks that were never set.
  int64_t min_event_time_ms = 946684800000;  // 2000-01-01T00:00:00Z
  // Events after this are refused; the service sets it to wall clock + max_future_skew.
  std::optional<int64_t> max_event_time_ms;
  // Always refused after this, clock or not: keeps time arithmetic far from overflow.
  int64_t latest_event_time_ms = 4102444800000;  // 2100-01-01T00:00:00Z
  size_t max_id_bytes = 256;
  size_t max_attributes = 1000;
  size_t max_attribute_bytes = 64 * 1024;
};

class Decoder {
 public:
  Decoder(const model::Model& model, engine::IdTable& leads, engine::IdTable& accounts,
          DecoderOptions options = {});

  // `key` is the Kafka key, when there is one: it must equal the account_id.
  // An error's message is the readable reason that goes with a dead letter.
  Result<engine::Input> Decode(std::string_view bytes, Format format,
                               std::optional<std::string_view> key = std::nullopt);

  DecoderOptions& options() { return options_; }

 private:
  const model::Model& model_;
  engine::IdTable& leads_;
  engine::IdTable& accounts_;
  DecoderOptions options_;
};

// A short, stable code for a refusal, for metrics ("unparseable", "missing_field",
// "key_mismatch", "bad_time", "too_large", "empty").
std::string ReasonCode(const Status& refusal);

// RoutingEvent on the wire: the protobuf JSON mapping with the proto field names and
// every field printed (zeros included), or binary protobuf.
std::string ToJson(const engine::RoutingEvent& ev);
std::string ToBinary(const engine::RoutingEvent& ev);

// Both directions for tests and tools: a wire RoutingEvent back to the plain struct.
Result<engine::RoutingEvent> RoutingEventFromJson(std::string_view json);
Result<engine::RoutingEvent> RoutingEventFromBinary(std::string_view bytes);

}  // namespace leadscore::codec
