// The codec's options on their own, so configuration can name them without linking
// the codec (or protobuf).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

namespace leadscore::codec {

enum class Format { kProtobuf, kJson };

struct DecoderOptions {
  // Events before this are refused (DLQ): clocks that were never set.
  int64_t min_event_time_ms = 946684800000;  // 2000-01-01T00:00:00Z
  // Events after this are refused; the service sets it to wall clock + max_future_skew.
  std::optional<int64_t> max_event_time_ms;
  // Always refused after this, clock or not: keeps time arithmetic far from overflow.
  int64_t latest_event_time_ms = 4102444800000;  // 2100-01-01T00:00:00Z
  // Larger records are refused before they are parsed (too_large).
  size_t max_record_bytes = 1 << 20;
  size_t max_id_bytes = 256;
  size_t max_attributes = 1000;
  size_t max_attribute_bytes = 64 * 1024;
};

}  // namespace leadscore::codec
