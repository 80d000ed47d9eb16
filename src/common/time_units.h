// Durations as the model file writes them: "7d", "48h", "30m", "10s", "250ms", and
// "5bd" (business days, Mon-Fri, for SLAs only). All times are Unix milliseconds, UTC.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace leadscore {

constexpr int64_t kMsPerSecond = 1000;
constexpr int64_t kMsPerMinute = 60 * kMsPerSecond;
constexpr int64_t kMsPerHour = 60 * kMsPerMinute;
constexpr int64_t kMsPerDay = 24 * kMsPerHour;

struct Duration {
  int64_t ms = 0;             // for plain durations
  int32_t business_days = 0;  // > 0 only for "Nbd"
  bool is_business_days() const { return business_days > 0; }
};

// Parses "<number><unit>". Business days are accepted only when allow_business_days.
Result<Duration> ParseDuration(std::string_view text, bool allow_business_days);

// t plus n business days (UTC, Mon-Fri). A start on a weekend counts from the
// following Monday 00:00; otherwise the time of day is kept: Fri 15:00 + 1bd = Mon 15:00.
int64_t AddBusinessDays(int64_t t_ms, int32_t n);

// The due time of an SLA that starts at t_ms.
inline int64_t DueAt(int64_t t_ms, const Duration& d) {
  return d.is_business_days() ? AddBusinessDays(t_ms, d.business_days) : t_ms + d.ms;
}

// "2027-12-03T10:00:00Z" (milliseconds dropped): a time in text meant for people, such
// as a routing event's reason.
std::string FormatUtc(int64_t t_ms);

}  // namespace leadscore
