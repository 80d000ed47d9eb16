// Tier changes: hysteresis, decay-driven crossings at their exact millisecond,
// disqualification, SLAs.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "common/time_units.h"
#include "engine/harness.h"
#include "engine/tiers.h"

namespace leadscore::testing {
namespace {

using ::testing::HasSubstr;
using engine::Direction;

// A vp lead at a software account: fit 80, so score = 40 + intent / 2.
void FitLead(Harness& h, const std::string& lead = "l1") {
  h.Account("a1", R"("industry":"software","country":"NL")");
  h.Lead(lead, "a1", R"("seniority":"vp","role":"buyer")");
}

TEST(TiersTest, AProfileAloneCanMoveATier) {
  Harness h;
  h.Advance(kT0);
  FitLead(h);
  auto ev = h.Take();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].lead_id, "l1");
  EXPECT_EQ(ev[0].from_tier, "cold");
  EXPECT_EQ(ev[0].to_tier, "warm");
  EXPECT_EQ(ev[0].direction, Direction::kUp);
  EXPECT_EQ(ev[0].reason, "score 40>=30");
  EXPECT_EQ(ev[0].occurred_at_ms, kT0);
  EXPECT_EQ(ev[0].sla_due_at_ms, kT0 + 48 * kHour);
  EXPECT_EQ(ev[0].action, "Nurture");
  EXPECT_EQ(ev[0].grade, "A");
  EXPECT_EQ(ev[0].model_version, h.model().version);
}

// SPEC section 3: an applied profile moves stream time as an event does, so a stream
// that starts with profiles routes at their time (not at 0, with an SLA in 1970).
TEST(TiersTest, AProfileFirstStreamRoutesAtTheProfilesTime) {
  Harness h;
  h.Account("a1", R"("industry":"software","country":"NL")", kT0);
  h.Lead("l1", "a1", R"("seniority":"vp")", kT0 + kHour);
  auto ev = h.Take();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].to_tier, "warm");
  EXPECT_EQ(ev[0].occurred_at_ms, kT0 + kHour);
  EXPECT_EQ(ev[0].sla_due_at_ms, kT0 + kHour + 48 * kHour);
  EXPECT_EQ(h.engine().stream_time(), kT0 + kHour);
  h.Lead("l1", "a1", R"("seniority":"vp")", kT0);  // stale: not applied, moves nothing
  EXPECT_EQ(h.engine().stream_time(), kT0 + kHour);
}

TEST(TiersTest, AProfileMovesStreamTimeAndTheDecayDueBeforeItComesFirst) {
  Harness h;
  h.Advance(kT0);
  FitLead(h);
  h.Event("l1", "a1", "demo", kT0);
  h.Take();
  h.Account("a2", R"("industry":"retail")", kT0 + 60 * kDay);  // another account's profile, 60 days on
  auto ev = h.Take();
  ASSERT_EQ(ev.size(), 1u) << "l1 demoted on the way, at its own millisecond";
  EXPECT_EQ(ev[0].lead_id, "l1");
  EXPECT_EQ(ev[0].to_tier, "warm");
  EXPECT_LT(ev[0].occurred_at_ms, kT0 + 60 * kDay);
  EXPECT_EQ(h.engine().stream_time(), kT0 + 60 * kDay);
}

// SPEC section 3: the SLA clock runs Monday to Friday (UTC); a weekend start counts from
// Monday 00:00 (Saturday 10:00 + 1bd = Tuesday 00:00), so + 2bd is Wednesday 00:00.
TEST(TiersTest, AWeekendCrossingStartsItsBusinessDaySlaOnMonday) {
  const int64_t monday = kT0 - (14 * kHour + 13 * kMin + 20 * kSec);  // 2026-09-21T00:00Z
  const int64_t saturday_1000 = monday + 5 * kDay + 10 * kHour;
  Harness h;
  h.Advance(saturday_1000 - kHour);
  FitLead(h);
  h.Take();
  h.Event("l1", "a1", "demo", saturday_1000);
  auto ev = h.Take();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].to_tier, "hot");
  EXPECT_EQ(ev[0].sla_due_at_ms, monday + 9 * kDay) << "Wednesday 00:00";
}

TEST(TiersTest, UpToTheHighestTierThatHoldsWithBusinessDaySla) {
  Harness h;
  h.Advance(kT0);
  FitLead(h);
  h.Take();
  h.Event("l1", "a1", "demo", kT0);
  auto ev = h.Take();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].from_tier, "warm");
  EXPECT_EQ(ev[0].to_tier, "hot");
  EXPECT_EQ(ev[0].reason, "score 60>=60, intent 40>=20");
  EXPECT_EQ(ev[0].sla_due_at_ms, AddBusinessDays(kT0, 2));
  EXPECT_EQ(ev[0].feedback, "required");
  EXPECT_EQ(ev[0].factors.size(), 3u);
}

TEST(TiersTest, DecayDemotesAtTheExactMillisecond) {
  Harness h;
  h.Advance(kT0);
  FitLead(h);
  h.Event("l1", "a1", "demo", kT0);
  h.Take();
  ASSERT_EQ(h.LeadView("l1").tier, "hot");
  const double hl = 10.0 * kDay;
  // hot holds (with hysteresis 5) while 40 + 0.5 * 40 * 2^(-t/h) >= 55.
  const int64_t expected =
      FirstMs(kT0, kT0 + 30 * kDay, [&](int64_t t) { return 40 + 0.5 * (40 * std::exp2(-(t - kT0) / hl)) < 55; });
  EXPECT_NEAR(expected - kT0, hl * std::log2(4.0 / 3.0), 1.0);
  EXPECT_LE(h.LeadView("l1").next_check_ms, expected) << "the engine's timer is never late";
  h.Advance(expected - 1);
  EXPECT_TRUE(h.Take().empty()) << "nothing before the crossing";
  h.Advance(kT0 + 60 * kDay);
  auto ev = h.Take();
  ASSERT_EQ(ev.size(), 1u) << "warm's minimum (30 - 5) always holds with fit 80";
  EXPECT_EQ(ev[0].from_tier, "hot");
  EXPECT_EQ(ev[0].to_tier, "warm");
  EXPECT_EQ(ev[0].direction, Direction::kDown);
  EXPECT_EQ(ev[0].occurred_at_ms, expected);
  EXPECT_LT(ev[0].score, 55);
  EXPECT_THAT(ev[0].reason, HasSubstr("score fell below 55"));
}

// A lead held exactly on its hysteresis boundary by a capped signal: two trials (50
// points, capped at 25) keep intent at exactly 25 = 30 - 5 until the uncapped sum falls
// below the cap, 30 days later. Decay cannot move it before then, so it is not checked
// before then (it once was, every millisecond), and the demotion still comes at its
// first millisecond.
TEST(TiersTest, ACappedSignalOnTheHysteresisBoundaryIsCheckedWhenItCanFallNotEveryMillisecond) {
  Harness h(R"(
fit: { grades: { A: 80 } }
intent:
  signals:
    trial: { points: 25, half_life: 30d, cap: 25 }
    view:  { points: 10, half_life: 1h }
lead:
  score: { fit_weight: 0, intent_weight: 1 }
  hysteresis: 5
  tiers:
    - { name: high, min_score: 30 }
    - { name: low, min_score: 0 }
account:
  score: { fit_weight: 0.5, intent_weight: 0.5 }
  committee: { roles: { buyer: 1 }, role_min_intent: 20 }
  tiers:
    - { name: C, min_score: 0 }
)");
  h.Event("l1", "a1", "trial", kT0);
  h.Event("l1", "a1", "trial", kT0);
  h.Event("l1", "a1", "view", kT0);
  ASSERT_EQ(h.Take().back().to_tier, "high");
  const uint64_t before = h.engine().stats().decay_checks;
  h.Advance(kT0 + 29 * kDay);
  EXPECT_TRUE(h.Take().empty());
  EXPECT_LT(h.engine().stats().decay_checks - before, 100u) << "the view decays away; the capped trial does not move";
  h.Advance(kT0 + 40 * kDay);
  auto ev = h.Take();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].to_tier, "low");
  const double h_trial = 30.0 * kDay, h_view = 1.0 * kHour;
  const int64_t expected = FirstMs(kT0, kT0 + 40 * kDay, [&](int64_t t) {
    const double dt = static_cast<double>(t - kT0);
    return std::min(25.0, 50 * std::exp2(-dt / h_trial)) + 10 * std::exp2(-dt / h_view) < 25;
  });
  EXPECT_EQ(ev[0].occurred_at_ms, expected);
  EXPECT_LT(h.engine().stats().decay_checks - before, 200u);
}

TEST(TiersTest, HysteresisPreventsFlappingAroundAThreshold) {
  Harness h;
  h.Advance(kT0);
  FitLead(h);
  h.Event("l1", "a1", "demo", kT0);  // score 60: hot
  h.Take();
  // Each day the score dips below 60 (not below 55), then a view lifts it above again.
  int64_t t = kT0;
  int dips = 0;
  for (int i = 0; i < 9; ++i) {
    t += kDay;
    h.Advance(t);
    const double score = h.LeadView("l1").score;
    ASSERT_GE(score, 55) << "day " << i;
    dips += score < 60;
    h.Event("l1", "a1", "view", t);
    ASSERT_GT(h.LeadView("l1").score, 60);
  }
  EXPECT_GE(dips, 7);
  EXPECT_TRUE(h.Take().empty()) << "no flapping between hot and warm";
  EXPECT_EQ(h.LeadView("l1").tier, "hot");
}

TEST(TiersTest, ADecayingNegativeSignalCausesAnUpAtTheExactMillisecond) {
  Harness h;
  h.Advance(kT0);
  h.Account("a1", R"("industry":"software")");  // fit 50: score = 25 + intent / 2
  h.Event("l1", "a1", "unsub", kT0);
  h.Event("l1", "a1", "demo", kT0);
  h.Take();
  ASSERT_EQ(h.LeadView("l1").tier, "cold");
  auto intent = [&](int64_t t) {
    return 40 * std::exp2(-(t - kT0) / (10.0 * kDay)) - 50 * std::exp2(-(t - kT0) / (2.0 * kDay));
  };
  const int64_t expected = FirstMs(kT0, kT0 + 30 * kDay, [&](int64_t t) { return 25 + 0.5 * intent(t) >= 30; });
  h.Advance(kT0 + 30 * kDay);
  auto ev = h.Take();
  ASSERT_GE(ev.size(), 1u);
  EXPECT_EQ(ev[0].lead_id, "l1");
  EXPECT_EQ(ev[0].to_tier, "warm");
  EXPECT_EQ(ev[0].direction, Direction::kUp);
  EXPECT_EQ(ev[0].occurred_at_ms, expected);
}

TEST(TiersTest, DecayCrossingsComeOutInTimeOrder) {
  Harness h;
  h.Advance(kT0);
  FitLead(h, "l1");
  h.Lead("l2", "a1", R"("seniority":"vp")");
  h.Event("l1", "a1", "demo", kT0);
  h.Event("l2", "a1", "demo", kT0 - kDay);  // a day older: crosses first
  h.Take();
  h.Advance(kT0 + 60 * kDay);
  auto ev = h.Take();
  ASSERT_GE(ev.size(), 2u);
  for (size_t i = 1; i < ev.size(); ++i) EXPECT_LE(ev[i - 1].occurred_at_ms, ev[i].occurred_at_ms);
}

TEST(TiersTest, BornDisqualifiedSilentlyAndNeverRouted) {
  Harness h;
  h.Advance(kT0);
  h.Account("a1", R"("industry":"software","country":"XX")");
  h.Lead("l1", "a1", R"("seniority":"vp")");
  for (int i = 0; i < 5; ++i) h.Event("l1", "a1", "demo", kT0);
  EXPECT_TRUE(h.Take().empty());
  EXPECT_EQ(h.LeadView("l1").tier, "disqualified");
  EXPECT_EQ(h.AccountView("a1").tier, "disqualified");
  // The block lifts: both move up from disqualified to the highest tier that holds.
  h.Account("a1", R"("industry":"software","country":"NL")", 2);
  auto ev = h.Take();
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0].lead_id, "l1");
  EXPECT_EQ(ev[0].from_tier, "disqualified");
  EXPECT_EQ(ev[0].to_tier, "hot") << "one event, even one that skips tiers";
  EXPECT_THAT(ev[0].reason, HasSubstr("no disqualify rule matches"));
  EXPECT_EQ(ev[1].entity, engine::EntityKind::kAccount);
  EXPECT_EQ(ev[1].to_tier, "C");
}

TEST(TiersTest, ALeadRuleDisqualifiesTheLeadOnly) {
  Harness h;
  h.Advance(kT0);
  FitLead(h);
  h.Take();
  h.Lead("l1", "a1", R"("seniority":"vp","title":"student")", 2);
  auto ev = h.Take();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].to_tier, "disqualified");
  EXPECT_EQ(ev[0].direction, Direction::kDown);
  EXPECT_EQ(ev[0].reason, "disqualified: student");
  EXPECT_EQ(ev[0].sla_due_at_ms, 0);
  EXPECT_EQ(h.AccountView("a1").tier, "C") << "a rule naming lead fields does not block the account";
}

TEST(FormatPointsTest, KeepsTheComparisonTrueAsPrinted) {
  using engine::FormatPoints;
  EXPECT_EQ(FormatPoints(71.43, 65, true), "71.4");
  EXPECT_EQ(FormatPoints(72.0, 60, true), "72");
  EXPECT_EQ(FormatPoints(59.96, 60, false), "59.96");
  EXPECT_EQ(FormatPoints(60.0, 60, true), "60");
  EXPECT_EQ(FormatPoints(-12.26, -12.3, true), "-12.3");
  EXPECT_EQ(FormatPoints(0.05, 0.06, false), "0.05") << "0.1 would read as at least 0.06";
}

// The largest double in fixed notation has 309 digits before the point: printed whole,
// not cut at a buffer's end.
TEST(FormatPointsTest, PrintsTheLargestDoubleWhole) {
  const std::string shown = engine::FormatPoints(1.7976931348623157e308, 0, true);
  EXPECT_EQ(shown.size(), 309u);
  EXPECT_EQ(shown.substr(0, 5), "17976");
}

}  // namespace
}  // namespace leadscore::testing
