// Buying committee: engaged roles, coverage, engaged contacts in the window.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/harness.h"

namespace leadscore::testing {
namespace {

using ::testing::ElementsAre;

// Account score = 0.5 * 50 (software) + 0.3 * intent + 0.2 * coverage.
// Tier A: score >= 40, >= 2 engaged contacts, >= 1 engaged role.
void Committee(Harness& h) {
  h.Advance(kT0);
  h.Account("a1", R"("industry":"software","country":"NL")");
  h.Lead("b1", "a1", R"("role":"buyer")");
  h.Lead("u1", "a1", R"("role":"user")");
}

TEST(CommitteeTest, RolesCoverageAndContacts) {
  Harness h;
  Committee(h);
  h.Event("b1", "a1", "demo", kT0);
  auto a = h.AccountView("a1");
  EXPECT_THAT(a.committee_roles, ElementsAre("buyer"));
  EXPECT_NEAR(a.coverage, 75, 1e-9) << "buyer weight 3 of 4";
  EXPECT_EQ(a.engaged_contacts, 1);
  EXPECT_NEAR(a.score, 25 + 0.3 * 40 + 0.2 * 75, 1e-9);
  EXPECT_EQ(a.tier, "C") << "score holds but only one contact";
  h.Take();

  h.Event("u1", "a1", "view", kT0);  // x0.5 for role user: 5 points, role not engaged
  auto ev = h.Take();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].entity, engine::EntityKind::kAccount);
  EXPECT_EQ(ev[0].to_tier, "A");
  EXPECT_EQ(ev[0].engaged_contacts, 2);
  EXPECT_THAT(ev[0].committee_roles, ElementsAre("buyer"));
  EXPECT_EQ(ev[0].reason, "score 53.5>=40, contacts 2>=2, roles 1>=1");  // 25 + 0.3*45 + 0.2*75
  EXPECT_EQ(ev[0].sla_due_at_ms, kT0 + 24 * kHour);
}

TEST(CommitteeTest, ContactsLeaveTheWindowAtTheExactMillisecond) {
  Harness h;
  Committee(h);
  h.Event("b1", "a1", "demo", kT0);
  h.Event("u1", "a1", "view", kT0 + kHour);
  h.Take();
  ASSERT_EQ(h.AccountView("a1").tier, "A");
  // b1's last event is at kT0: engaged while t < kT0 + 10d (window (t - 10d, t]).
  h.Advance(kT0 + 10 * kDay - 1);
  EXPECT_TRUE(h.Take().empty());
  EXPECT_EQ(h.AccountView("a1").engaged_contacts, 2);
  h.Advance(kT0 + 20 * kDay);
  auto ev = h.Take();
  ASSERT_GE(ev.size(), 1u);
  EXPECT_EQ(ev[0].to_tier, "C");
  EXPECT_EQ(ev[0].occurred_at_ms, kT0 + 10 * kDay);
  EXPECT_EQ(ev[0].engaged_contacts, 1);
  EXPECT_THAT(ev[0].reason, ::testing::HasSubstr("contacts 1<2"));
}

TEST(CommitteeTest, ARoleChangeMovesTheLeadsPoints) {
  Harness h;
  Committee(h);
  h.Event("b1", "a1", "demo", kT0);
  ASSERT_THAT(h.AccountView("a1").committee_roles, ElementsAre("buyer"));
  h.Lead("b1", "a1", R"("role":"user")", 2);
  auto a = h.AccountView("a1");
  EXPECT_THAT(a.committee_roles, ElementsAre("user"));
  EXPECT_NEAR(a.coverage, 25, 1e-9);
}

TEST(CommitteeTest, ARoleDisengagesWhenItsPointsDecayBelowTheMinimum) {
  Harness h;
  Committee(h);
  h.Event("b1", "a1", "demo", kT0);                 // 40 points, 10d half-life
  h.Advance(kT0 + 10 * kDay - 1);
  EXPECT_THAT(h.AccountView("a1").committee_roles, ElementsAre("buyer"));
  h.Advance(kT0 + 10 * kDay + 1);                   // 40 * 2^-1 = 20 at exactly 10d
  EXPECT_TRUE(h.AccountView("a1").committee_roles.empty());
}

// A lead leaving its account takes its share of its role's points, so the role falls
// below role_min_intent sooner, and the account leaves tier A then (20d), not when its
// contacts leave the window (25d). An account's check solves a role's crossing only
// when a cheap lower bound on it is sooner than the check found so far
// (Scorer::AccountNextDue); a bound that is not one skips the buyer role here. (It
// also pinned a memo of the crossings, tried and not kept: see the README.)
TEST(CommitteeTest, ALeadLeavingBringsItsRolesCrossingForward) {
  Harness h;
  Committee(h);
  h.Lead("b2", "a1", R"("role":"buyer")");
  h.Lead("u2", "a1", R"("role":"user")");
  for (const char* buyer : {"b1", "b1", "b2", "b2"}) h.Event(buyer, "a1", "demo", kT0);  // buyer: 160 points
  h.Event("u1", "a1", "view", kT0);
  h.Event("u2", "a1", "view", kT0);
  ASSERT_EQ(h.AccountView("a1").tier, "A");
  h.Advance(kT0 + 10 * kDay + kHour);  // every contact left the window at 10d: tier C; buyer at 80
  ASSERT_EQ(h.AccountView("a1").tier, "C");
  h.Lead("b2", "a2", R"("role":"buyer")", 2);  // b2 moves: b1's 80 of T0 is left, below 20 at exactly 20d
  h.Event("u1", "a1", "view", kT0 + 15 * kDay);
  h.Event("u2", "a1", "view", kT0 + 15 * kDay);  // two contacts again, until 25d
  ASSERT_EQ(h.AccountView("a1").tier, "A");
  h.Take();
  h.Advance(kT0 + 30 * kDay);
  std::vector<engine::RoutingEvent> a1;
  for (const auto& ev : h.Take()) {
    if (ev.account_id == "a1" && ev.lead_id.empty()) a1.push_back(ev);
  }
  ASSERT_FALSE(a1.empty());
  EXPECT_EQ(a1[0].to_tier, "C");
  EXPECT_GE(a1[0].occurred_at_ms, kT0 + 20 * kDay);
  EXPECT_LE(a1[0].occurred_at_ms, kT0 + 20 * kDay + kSec) << "when the buyer role left, not when the contacts did";
  EXPECT_THAT(a1[0].reason, ::testing::HasSubstr("roles 0<1"));
}

}  // namespace
}  // namespace leadscore::testing
