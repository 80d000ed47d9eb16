// The arithmetic of SPEC.md section 3 against hand-computed values, to 1e-9.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "engine/harness.h"

namespace leadscore::testing {
namespace {

constexpr double kEps = 1e-9;
enum Signal { kView = 0, kDemo = 1, kUnsub = 2 };

TEST(ArithmeticTest, OneHalfLifeHalvesThePoints) {
  Harness h;
  h.Event("l1", "a1", "view", kT0);
  h.Advance(kT0 + kDay);
  auto v = h.LeadView("l1");
  EXPECT_NEAR(v.signal_points[kView], 5.0, kEps);
  EXPECT_NEAR(v.intent, 5.0, kEps);
  h.Advance(kT0 + 3 * kDay);
  EXPECT_NEAR(h.LeadView("l1").signal_points[kView], 1.25, kEps);
}

TEST(ArithmeticTest, ArbitraryDecayMatchesTheFormula) {
  Harness h;
  h.Event("l1", "a1", "demo", kT0);
  h.Event("l1", "a1", "demo", kT0 + 3 * kDay + 17);
  const int64_t t = kT0 + 8 * kDay + 12345;
  h.Advance(t);
  const double h10 = 10.0 * kDay;
  const double expected = 40 * std::exp2(-(t - kT0) / h10) + 40 * std::exp2(-(t - kT0 - 3 * kDay - 17) / h10);
  EXPECT_NEAR(h.LeadView("l1").signal_points[kDemo], expected, kEps);
  EXPECT_NEAR(h.LeadView("l1").intent, expected, kEps);
}

TEST(ArithmeticTest, CapLimitsEachSignalSum) {
  Harness h;
  for (int i = 0; i < 5; ++i) h.Event("l1", "a1", "view", kT0);
  auto v = h.LeadView("l1");
  EXPECT_NEAR(v.signal_points[kView], 50, kEps) << "the sum itself is kept uncapped";
  EXPECT_NEAR(v.intent, 30, kEps) << "the cap applies to the intent";
  // The account cap defaults to twice the lead cap.
  for (int i = 0; i < 3; ++i) h.Event("l2", "a1", "view", kT0);
  EXPECT_NEAR(h.AccountView("a1").intent, 60, kEps);
}

TEST(ArithmeticTest, NegativeSignalsAndClamping) {
  Harness h;
  h.Event("l1", "a1", "demo", kT0);
  h.Event("l1", "a1", "unsub", kT0);
  EXPECT_NEAR(h.LeadView("l1").intent, 0, kEps) << "40 - 50 clamps to 0";
  h.Advance(kT0 + 2 * kDay);
  EXPECT_NEAR(h.LeadView("l1").intent, 40 * std::exp2(-0.2) - 25, kEps);
  for (int i = 0; i < 4; ++i) h.Event("l2", "a1", "demo", kT0 + 2 * kDay);
  EXPECT_NEAR(h.LeadView("l2").intent, 100, kEps) << "160 clamps to 100";
}

TEST(ArithmeticTest, MultipliersAreFixedWhenTheEventIsScored) {
  Harness h;
  h.Event("l1", "a1", "view", kT0, "", R"({"region":"emea"})");
  EXPECT_NEAR(h.LeadView("l1").signal_points[kView], 20, kEps) << "region multiplier x2 on view";
  h.Lead("l2", "a1", R"("role":"user")");
  h.Event("l2", "a1", "view", kT0, "", R"({"region":"emea"})");
  EXPECT_NEAR(h.LeadView("l2").signal_points[kView], 10, kEps) << "x2 for emea, x0.5 for role user";
  h.Event("l2", "a1", "demo", kT0);
  EXPECT_NEAR(h.LeadView("l2").signal_points[kDemo], 20, kEps) << "the role multiplier has no signals list";
  h.Lead("l2", "a1", R"("role":"buyer")", 2);
  EXPECT_NEAR(h.LeadView("l2").signal_points[kView], 10, kEps) << "not recomputed when the profile changes";
  h.Event("l2", "a1", "view", kT0, "", R"({"region":"apac"})");
  EXPECT_NEAR(h.LeadView("l2").signal_points[kView], 20, kEps);
}

TEST(ArithmeticTest, LateEventDecaysToTheEntityClock) {
  Harness h;
  h.Event("l1", "a1", "view", kT0 + kDay);
  h.Event("l1", "a1", "view", kT0);  // one day late
  EXPECT_NEAR(h.LeadView("l1").signal_points[kView], 10 + 5, kEps);
  EXPECT_EQ(h.engine().stream_time(), kT0 + kDay) << "a late event does not move stream time back";
}

TEST(ArithmeticTest, FitScoreAndGrade) {
  Harness h;
  h.Account("a1", R"("industry":"software")");
  h.Lead("l1", "a1", R"("seniority":"vp")");
  h.Event("l1", "a1", "view", kT0);
  auto lead = h.LeadView("l1");
  EXPECT_NEAR(lead.fit, 80, kEps);
  EXPECT_EQ(lead.grade, "A");
  EXPECT_NEAR(lead.score, 0.5 * 80 + 0.5 * 10, kEps);
  auto account = h.AccountView("a1");
  EXPECT_NEAR(account.fit, 50, kEps) << "account fit counts only rules naming account.* fields";
  EXPECT_EQ(account.grade, "F");
  // Account score: 0.5 fit + 0.3 intent + 0.2 coverage (no roles engaged).
  EXPECT_NEAR(account.score, 0.5 * 50 + 0.3 * 10, kEps);
}

TEST(ArithmeticTest, UnknownFieldsMatchNoRule) {
  Harness h;
  h.Event("l1", "a1", "view", kT0);  // no profiles at all
  EXPECT_NEAR(h.LeadView("l1").fit, 0, kEps);
  EXPECT_FALSE(h.LeadView("l1").disqualified) << "not_in on an unknown country is false";
}

TEST(ArithmeticTest, FactorsExplainTheScoreLargestFirst) {
  Harness h;
  h.Account("a1", R"("industry":"software")");
  h.Lead("l1", "a1", R"("seniority":"vp")");
  h.Event("l1", "a1", "demo", kT0);
  h.Event("l1", "a1", "view", kT0);
  h.Event("l1", "a1", "view", kT0 + kHour);
  auto f = h.LeadView("l1").factors;
  ASSERT_EQ(f.size(), 4u);
  EXPECT_EQ(f[0].name, "target");
  EXPECT_EQ(f[1].name, "demo");
  EXPECT_EQ(f[2].name, "senior");
  EXPECT_EQ(f[3].name, "view");
  EXPECT_EQ(f[3].count, 2);
  EXPECT_EQ(f[3].last_at_ms, kT0 + kHour);
  EXPECT_NEAR(f[3].points, 10 * std::exp2(-1.0 / 24) + 10, kEps);
}

// SPEC section 2: contributors with |points| < 0.01 are not listed (a view 10 days
// old under a 1-day half-life is worth 10 * 2^-10 = 0.0098 points; 9 days: 0.0195).
TEST(ArithmeticTest, FactorsBelowAHundredthOfAPointAreNotListed) {
  for (int days : {9, 10}) {
    Harness h;
    h.Account("a1", R"("industry":"software")");
    h.Event("l1", "a1", "view", kT0);
    h.Event("l1", "a1", "demo", kT0 + days * kDay);
    h.Event("l1", "a1", "demo", kT0 + days * kDay);
    auto ev = h.Take();
    ASSERT_FALSE(ev.empty());
    ASSERT_EQ(ev.back().to_tier, "hot");
    std::vector<std::string> names;
    for (const auto& f : ev.back().factors) names.push_back(f.name);
    std::vector<std::string> lead_view;
    for (const auto& f : h.LeadView("l1").factors) lead_view.push_back(f.name);
    if (days == 9) {
      EXPECT_THAT(names, ::testing::ElementsAre("demo", "target", "view"));
      EXPECT_NEAR(ev.back().factors[2].points, 10 * std::exp2(-9.0), kEps);
    } else {
      EXPECT_THAT(names, ::testing::ElementsAre("demo", "target")) << "0.0098 points is not a reason";
      EXPECT_THAT(lead_view, ::testing::ElementsAre("demo", "target")) << "nor in the view";
    }
  }
}

}  // namespace
}  // namespace leadscore::testing
