// Duplicates, skips, profiles, outcomes, Forget, leads moving between accounts, ids.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "engine/harness.h"

namespace leadscore::testing {
namespace {

constexpr double kEps = 1e-9;

TEST(LifecycleTest, DuplicateEventIdsCountOnce) {
  Harness h;
  h.Event("l1", "a1", "view", kT0, "same");
  h.Event("l1", "a1", "view", kT0 + kHour, "other");
  h.Event("l1", "a1", "view", kT0, "same");
  EXPECT_NEAR(h.LeadView("l1").signal_points[0], 10 * std::exp2(-1.0 / 24) + 10, kEps);
  EXPECT_EQ(h.engine().stats().skipped_duplicate, 1u);
  EXPECT_EQ(h.engine().stats().events_scored, 2u);
}

TEST(LifecycleTest, AFloodOfDuplicatesChangesNothing) {
  Harness h;
  h.Event("l1", "a1", "demo", kT0, "x");
  for (int i = 0; i < 1000; ++i) h.Event("l1", "a1", "demo", kT0, "x");
  EXPECT_NEAR(h.LeadView("l1").signal_points[1], 40, kEps);
  EXPECT_EQ(h.engine().stats().skipped_duplicate, 1000u);
}

TEST(LifecycleTest, UnknownSignalsAreSkippedAndCounted) {
  Harness h;
  h.Event("l1", "a1", "page_scroll", kT0);
  EXPECT_EQ(h.engine().stats().skipped_unknown_signal, 1u);
  EXPECT_FALSE(h.engine().ViewLead("l1").has_value()) << "a skipped event creates nothing";
}

TEST(LifecycleTest, EventsBeyondTheDedupeWindowAreSkippedNotDoubleCounted) {
  engine::EngineOptions o;
  o.dedupe_window_ms = 5 * kDay;
  Harness h(kTestModel, o);
  h.Event("l1", "a1", "demo", kT0 + 10 * kDay);
  h.Event("l1", "a1", "demo", kT0 + 4 * kDay);  // 6 days late
  EXPECT_EQ(h.engine().stats().skipped_too_late, 1u);
  h.Event("l1", "a1", "demo", kT0 + 6 * kDay);  // 4 days late: within the window
  EXPECT_EQ(h.engine().stats().events_scored, 2u);
}

TEST(LifecycleTest, DedupeMemoryIsBoundedPerLeadAndStaysSafe) {
  engine::EngineOptions o;
  o.dedupe_max_ids_per_lead = 4;
  Harness h(kTestModel, o);
  for (int i = 0; i < 10; ++i) h.Event("l1", "a1", "view", kT0 + i * kMin, "id" + std::to_string(i));
  const double before = h.LeadView("l1").signal_points[0];
  h.Event("l1", "a1", "view", kT0, "id0");  // forgotten id: refused as too late, not counted twice
  EXPECT_EQ(h.LeadView("l1").signal_points[0], before);
  EXPECT_EQ(h.engine().stats().skipped_too_late, 1u);
  h.Event("l1", "a1", "view", kT0 + 9 * kMin, "id9");  // still remembered
  EXPECT_EQ(h.engine().stats().skipped_duplicate, 1u);
}

TEST(LifecycleTest, ProfilesAreLastWriteWinsByUpdatedAt) {
  Harness h;
  h.Account("a1", R"("industry":"software")");
  h.Lead("l1", "a1", R"("seniority":"vp")", 5);
  h.Lead("l1", "a1", R"("seniority":"intern")", 3);
  EXPECT_NEAR(h.LeadView("l1").fit, 80, kEps);
  EXPECT_EQ(h.engine().stats().profiles_stale, 1u);
  h.Lead("l1", "a1", R"("seniority":"intern")", 6);
  EXPECT_NEAR(h.LeadView("l1").fit, 50, kEps);
}

TEST(LifecycleTest, AnAccountProfileUpdateMovesItsLeads) {
  Harness h;
  h.Advance(kT0);
  h.Lead("l1", "a1", R"("seniority":"vp")");  // fit 30, score 15: cold
  EXPECT_TRUE(h.Take().empty());
  h.Account("a1", R"("industry":"software")");
  auto ev = h.Take();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].lead_id, "l1");
  EXPECT_EQ(ev[0].to_tier, "warm");
}

TEST(LifecycleTest, ForgetALeadRemovesItAndItsContribution) {
  Harness h;
  h.Event("l1", "a1", "demo", kT0);
  h.Event("l2", "a1", "view", kT0);
  ASSERT_NEAR(h.AccountView("a1").signal_points[1], 40, kEps);
  h.Json(R"({"forget":{"lead_id":"l1","account_id":"a1"}})");
  EXPECT_FALSE(h.engine().ViewLead("l1").has_value());
  auto a = h.AccountView("a1");
  EXPECT_NEAR(a.signal_points[1], 0, kEps);
  EXPECT_NEAR(a.signal_points[0], 10, kEps);
  EXPECT_EQ(a.lead_count, 1);
  EXPECT_EQ(a.engaged_contacts, 1);
}

TEST(LifecycleTest, ForgetAnAccountRemovesItsLeads) {
  Harness h;
  h.Event("l1", "a1", "demo", kT0);
  h.Event("l2", "a1", "view", kT0);
  h.Json(R"({"forget":{"account_id":"a1"}})");
  EXPECT_FALSE(h.engine().ViewAccount("a1").has_value());
  EXPECT_FALSE(h.engine().ViewLead("l1").has_value());
  EXPECT_FALSE(h.engine().ViewLead("l2").has_value());
  h.Advance(kT0 + 100 * kDay);  // stale timers of forgotten entities are skipped
  EXPECT_TRUE(h.engine().ViewLead("l1") == std::nullopt);
}

TEST(LifecycleTest, ALeadThatMovesAccountTakesItsPointsAlong) {
  Harness h;
  h.Event("l1", "a1", "demo", kT0);
  h.Lead("l1", "a2", "", 2);
  EXPECT_NEAR(h.AccountView("a1").signal_points[1], 0, kEps);
  EXPECT_EQ(h.AccountView("a1").lead_count, 0);
  EXPECT_NEAR(h.AccountView("a2").signal_points[1], 40, kEps);
  EXPECT_EQ(h.LeadView("l1").account_id, "a2");
}

TEST(LifecycleTest, OutcomesAreAccepted) {
  Harness h;
  h.Event("l1", "a1", "demo", kT0);
  h.Json(R"({"outcome":{"routing_id":"r","lead_id":"l1","account_id":"a1","kind":"ACCEPTED","occurred_at_ms":"1"}})");
  EXPECT_EQ(h.engine().stats().outcomes, 1u);
}

TEST(LifecycleTest, RoutingIdsAreDeterministicAndUnique) {
  auto run = [] {
    Harness h;
    h.Advance(kT0);
    h.Account("a1", R"("industry":"software")");
    for (int i = 0; i < 6; ++i) {
      const std::string lead = "l" + std::to_string(i % 3);
      h.Lead(lead, "a1", R"("seniority":"vp","role":"buyer")");
      h.Event(lead, "a1", "demo", kT0 + i * kDay);
    }
    h.Advance(kT0 + 200 * kDay);
    std::vector<std::string> ids;
    for (const auto& e : h.Take()) ids.push_back(e.routing_id);
    return ids;
  };
  auto first = run(), second = run();
  EXPECT_GE(first.size(), 6u);
  EXPECT_EQ(first, second);
  EXPECT_EQ(std::set<std::string>(first.begin(), first.end()).size(), first.size());
  for (const auto& id : first) EXPECT_EQ(id.size(), 32u);
}

}  // namespace
}  // namespace leadscore::testing
