#include "common/time_units.h"

#include <cctype>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>

namespace leadscore {
namespace {

// Days since 1970-01-01 (a Thursday) to weekday, 0 = Monday.
int WeekdayOfDay(int64_t day) {
  int64_t w = (day + 3) % 7;
  return static_cast<int>(w < 0 ? w + 7 : w);
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

}  // namespace

Result<Duration> ParseDuration(std::string_view text, bool allow_business_days) {
  size_t unit_at = 0;
  while (unit_at < text.size() && (std::isdigit(static_cast<unsigned char>(text[unit_at])) ||
                                   text[unit_at] == '.')) {
    ++unit_at;
  }
  std::string_view number = text.substr(0, unit_at);
  std::string_view unit = text.substr(unit_at);
  double value = 0;
  auto [ptr, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
  if (number.empty() || ec != std::errc() || ptr != number.data() + number.size()) {
    return Status::InvalidArgument("'" + std::string(text) +
                                   "' is not a duration (expected e.g. 7d, 48h, 30m, 10s, 250ms" +
                                   (allow_business_days ? ", 5bd)" : ")"));
  }
  Duration d;
  if (unit == "bd") {
    if (!allow_business_days) {
      return Status::InvalidArgument("business days ('" + std::string(text) +
                                     "') are only allowed for an SLA");
    }
    if (value != std::floor(value) || value < 1 || value > 10000) {
      return Status::InvalidArgument("'" + std::string(text) +
                                     "': business days must be a whole number from 1");
    }
    d.business_days = static_cast<int32_t>(value);
    return d;
  }
  int64_t per = 0;
  if (unit == "ms") per = 1;
  else if (unit == "s") per = kMsPerSecond;
  else if (unit == "m") per = kMsPerMinute;
  else if (unit == "h") per = kMsPerHour;
  else if (unit == "d") per = kMsPerDay;
  else {
    return Status::InvalidArgument("'" + std::string(text) + "' has no known unit (ms, s, m, h, d" +
                                   (allow_business_days ? ", bd)" : ")"));
  }
  double ms = value * static_cast<double>(per);
  if (ms > 1e15) return Status::InvalidArgument("'" + std::string(text) + "' is too long");
  d.ms = static_cast<int64_t>(std::llround(ms));
  return d;
}

int64_t AddBusinessDays(int64_t t_ms, int32_t n) {
  int64_t day = FloorDiv(t_ms, kMsPerDay);
  int64_t time_of_day = t_ms - day * kMsPerDay;
  int wd = WeekdayOfDay(day);
  if (wd >= 5) {  // Saturday or Sunday: start at the next Monday 00:00
    day += 7 - wd;
    time_of_day = 0;
  }
  // Whole weeks first, then the remainder day by day.
  day += static_cast<int64_t>(n / 5) * 7;
  for (int32_t left = n % 5; left > 0;) {
    ++day;
    if (WeekdayOfDay(day) < 5) --left;
  }
  return day * kMsPerDay + time_of_day;
}

std::string FormatUtc(int64_t t_ms) {
  using namespace std::chrono;
  const sys_time<milliseconds> t{milliseconds{t_ms}};
  const sys_days day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss<seconds> hms{floor<seconds>(t - day)};
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02lld:%02lld:%02lldZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<long long>(hms.hours().count()), static_cast<long long>(hms.minutes().count()),
                static_cast<long long>(hms.seconds().count()));
  return buf;
}

}  // namespace leadscore
