#include "common/time_units.h"

#include <gtest/gtest.h>

namespace leadscore {
namespace {

// 2026-11-20 is a Friday, 2026-11-21 a Saturday.
constexpr int64_t kFri1500 = 1795186800000;  // 2026-11-20T15:00:00Z
constexpr int64_t kSat1000 = 1795255200000;  // 2026-11-21T10:00:00Z
constexpr int64_t kMon0000 = 1795392000000;  // 2026-11-23T00:00:00Z

TEST(DurationTest, ParsesEveryUnit) {
  EXPECT_EQ(ParseDuration("250ms", false)->ms, 250);
  EXPECT_EQ(ParseDuration("10s", false)->ms, 10 * kMsPerSecond);
  EXPECT_EQ(ParseDuration("30m", false)->ms, 30 * kMsPerMinute);
  EXPECT_EQ(ParseDuration("48h", false)->ms, 48 * kMsPerHour);
  EXPECT_EQ(ParseDuration("7d", false)->ms, 7 * kMsPerDay);
  EXPECT_EQ(ParseDuration("1.5h", false)->ms, 90 * kMsPerMinute);
  EXPECT_EQ(ParseDuration("5bd", true)->business_days, 5);
}

TEST(DurationTest, RefusesWhatIsNotADuration) {
  EXPECT_FALSE(ParseDuration("7", false).ok());
  EXPECT_FALSE(ParseDuration("d", false).ok());
  EXPECT_FALSE(ParseDuration("7w", false).ok());
  EXPECT_FALSE(ParseDuration("-7d", false).ok());
  EXPECT_FALSE(ParseDuration("5bd", false).ok()) << "business days only where allowed (SLAs)";
  EXPECT_FALSE(ParseDuration("1.5bd", true).ok());
}

TEST(BusinessDaysTest, KeepsTimeOfDayWithinTheWeek) {
  const int64_t mon_0900 = kMon0000 + 9 * kMsPerHour;
  EXPECT_EQ(AddBusinessDays(mon_0900, 1), mon_0900 + kMsPerDay);
  EXPECT_EQ(AddBusinessDays(mon_0900, 4), mon_0900 + 4 * kMsPerDay);  // Friday
}

TEST(BusinessDaysTest, SkipsTheWeekend) {
  EXPECT_EQ(AddBusinessDays(kFri1500, 1), kFri1500 + 3 * kMsPerDay);   // Monday 15:00
  EXPECT_EQ(AddBusinessDays(kFri1500, 5), kFri1500 + 7 * kMsPerDay);   // next Friday
  EXPECT_EQ(AddBusinessDays(kFri1500, 6), kFri1500 + 10 * kMsPerDay);  // Monday after
}

TEST(BusinessDaysTest, AWeekendStartCountsFromMondayMorning) {
  EXPECT_EQ(AddBusinessDays(kSat1000, 1), kMon0000 + kMsPerDay);      // Tuesday 00:00
  EXPECT_EQ(AddBusinessDays(kSat1000, 5), kMon0000 + 7 * kMsPerDay);  // next Monday 00:00
}

TEST(BusinessDaysTest, DueAtUsesPlainOrBusinessDays) {
  EXPECT_EQ(DueAt(kFri1500, *ParseDuration("24h", false)), kFri1500 + kMsPerDay);
  EXPECT_EQ(DueAt(kFri1500, *ParseDuration("1bd", true)), kFri1500 + 3 * kMsPerDay);
}

TEST(TimeUnitsTest, FormatsUtcForPeople) {
  EXPECT_EQ(FormatUtc(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatUtc(1790000000000), "2026-09-21T14:13:20Z");
  EXPECT_EQ(FormatUtc(1790000000999), "2026-09-21T14:13:20Z") << "milliseconds dropped, not rounded";
  EXPECT_EQ(FormatUtc(1830297599000), "2027-12-31T23:59:59Z");
}

}  // namespace
}  // namespace leadscore
