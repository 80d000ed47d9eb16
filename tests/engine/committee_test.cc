// Buying committee: engaged roles, coverage, engaged contacts in the window.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <vector>

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

// A model for the committee's checks: a software account has fit 50, leads have one
// tier (no lead checks); `signals` are the intent's signals (lines indented by four),
// `account` is the account policy's body.
std::string CommitteeModel(const std::string& signals, const std::string& account) {
  return R"(
version: roles
fit:
  rules:
    - { name: target, when: { account.industry: { eq: software } }, points: 50 }
  grades: { A: 80 }
intent:
  signals:
)" + signals + R"(
lead:
  score: { fit_weight: 0, intent_weight: 1 }
  tiers:
    - { name: any, min_score: 0 }
account:
  hysteresis: 0)" + account;
}

// Two slow signals.
std::string BuyerAndUserModel(const std::string& account) {
  return CommitteeModel(R"(    demo:    { points: 40, half_life: 10d }
    webinar: { points: 40, half_life: 100d })",
                        account);
}

// Account a1 (software) with a buyer, b1, and a user, u1, at kT0.
void BuyerAndUser(Harness& h) {
  h.Advance(kT0);
  h.Account("a1", R"("industry":"software")");
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
// also pinned a first memo of the crossings, not kept; the memo kept since is
// AccountState::role_crossing.)
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

// Contacts leaving the window only lower their count, which only the tier's own
// min_engaged_contacts reads: with three contacts and a minimum of two, the account is
// checked when the second leaves, not at each end.
TEST(CommitteeTest, ContactsLeavingAreACheckWhenTheCountFailsTheTier) {
  Harness h;
  Committee(h);
  h.Lead("u2", "a1", R"("role":"user")");
  h.Event("b1", "a1", "demo", kT0);  // buyer: 80 points, engaged until 20d
  h.Event("b1", "a1", "demo", kT0);
  h.Event("u1", "a1", "view", kT0 + kHour);
  h.Event("u2", "a1", "view", kT0 + 2 * kHour);
  h.Take();
  ASSERT_EQ(h.AccountView("a1").tier, "A");
  ASSERT_EQ(h.AccountView("a1").engaged_contacts, 3);
  // u1's event moved it to A with two contacts, and its check was solved then: when b1
  // leaves. u2's event only added a contact, so that check stays, a lower bound
  // (Scorer::AccountDueHoldsAfterEvents). At it nothing moves, and the account is
  // solved from its three contacts.
  ASSERT_EQ(h.AccountView("a1").next_check_ms, kT0 + 10 * kDay);
  h.Advance(kT0 + 10 * kDay);
  EXPECT_EQ(h.AccountView("a1").tier, "A");
  EXPECT_EQ(h.AccountView("a1").next_check_ms, kT0 + kHour + 10 * kDay)
      << "not at the next end after b1's (u2's, 10d 2h): two contacts hold the tier until u1 leaves";
  h.Advance(kT0 + 20 * kDay);
  std::vector<engine::RoutingEvent> ev;
  for (auto& e : h.Take()) {
    if (e.lead_id.empty()) ev.push_back(e);  // the account's
  }
  ASSERT_GE(ev.size(), 1u);
  EXPECT_EQ(ev[0].to_tier, "C");
  EXPECT_EQ(ev[0].occurred_at_ms, kT0 + kHour + 10 * kDay) << "when u1 left: one contact is fewer than two";
  EXPECT_THAT(ev[0].reason, ::testing::HasSubstr("contacts 1<2"));
}

// A role leaving lowers the coverage, and through it the score: its crossing is a check
// only where the tier can fail from it. Here the buyer role leaves at 20d and the score
// stays above B's minimum, then falls below it when intent reaches the lower line the
// smaller coverage draws: the account's first check is solved for that line, and the
// demotion comes at its millisecond, computed here independently of the engine.
// Contacts leave the window at 5d without a check: tier B has no minimum of contacts.
TEST(CommitteeTest, ARoleLeavingIsACheckOnlyWhereTheTierCanFail) {
  Harness h(BuyerAndUserModel(R"(
  score: { fit_weight: 0, intent_weight: 0.5, committee_weight: 0.5 }
  committee: { roles: { buyer: 1, user: 1 }, role_min_intent: 20, contact_window: 5d }
  tiers:
    - { name: B, min_score: 40 }
    - { name: C, min_score: 0 }
)"));
  BuyerAndUser(h);
  h.Event("b1", "a1", "demo", kT0);  // buyer: 80 points, below 20 after 20d
  h.Event("b1", "a1", "demo", kT0);
  h.Event("u1", "a1", "webinar", kT0);  // user: 40 points, below 20 after 100d
  h.Take();
  ASSERT_EQ(h.AccountView("a1").tier, "B");
  // After 20d: score = 0.5 * intent + 0.5 * 50 (the user role alone), below 40 when
  // intent = 80 * 2^(-t/10d) + 40 * 2^(-t/100d) falls below 30.
  auto score = [](int64_t t) {
    const double dt = static_cast<double>(t - kT0);
    const double intent = std::min(100.0, 80 * std::exp2(-dt / (10.0 * kDay)) + 40 * std::exp2(-dt / (100.0 * kDay)));
    return 0.5 * intent + 0.5 * 50;
  };
  const int64_t expected = FirstMs(kT0 + 20 * kDay, kT0 + 100 * kDay, [&](int64_t t) { return score(t) < 40; });
  ASSERT_GT(expected, kT0 + 50 * kDay);
  ASSERT_LT(expected, kT0 + 100 * kDay);

  // b1's first event moved it to B on one demo, and its check was solved then (intent
  // below 30 at 4.15d). The two events after it only added, so that check stays
  // (Scorer::AccountDueHoldsAfterEvents); at it nothing moves, and the account is
  // solved from all three.
  const int64_t kept = h.AccountView("a1").next_check_ms;
  ASSERT_LT(kept, kT0 + 5 * kDay);
  h.Advance(kept);
  ASSERT_EQ(h.AccountView("a1").tier, "B");
  // A lower bound on the crossing (decay.h), no sooner than the buyer's.
  EXPECT_GT(h.AccountView("a1").next_check_ms, kT0 + 50 * kDay) << "not when the contacts (5d) or the buyer (20d) left";
  EXPECT_LE(h.AccountView("a1").next_check_ms, expected);
  h.Advance(kT0 + 20 * kDay + kHour);
  EXPECT_THAT(h.AccountView("a1").committee_roles, ElementsAre("user"));
  h.Advance(expected - 1);
  EXPECT_TRUE(h.Take().empty());
  h.Advance(expected);
  auto ev = h.Take();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].to_tier, "C");
  EXPECT_EQ(ev[0].occurred_at_ms, expected);
  EXPECT_THAT(ev[0].committee_roles, ElementsAre("user"));
}

// A role can also engage by decay, when a negative sum in it fades faster than its
// positive ones: that is a check wherever a tier above could then hold. Here the
// buyer's unsubscribe (-50, 2d) under its demo (40, 10d) keeps the role below 20 until
// about 5.7d, and the account moves up to A at that millisecond (computed here).
TEST(CommitteeTest, ARoleEngagingAsItsNegativeFadesLiftsTheAccount) {
  Harness h;
  Committee(h);
  h.Event("b1", "a1", "demo", kT0);
  h.Event("b1", "a1", "unsub", kT0);
  h.Event("u1", "a1", "view", kT0);  // a second contact; the user role stays at 5
  h.Take();
  ASSERT_EQ(h.AccountView("a1").tier, "C");
  auto buyer = [](int64_t t) {
    const double dt = static_cast<double>(t - kT0);
    return 40 * std::exp2(-dt / (10.0 * kDay)) - 50 * std::exp2(-dt / (2.0 * kDay));
  };
  const int64_t expected = FirstMs(kT0, kT0 + 9 * kDay, [&](int64_t t) { return buyer(t) >= 20; });
  ASSERT_GT(expected, kT0 + 5 * kDay);
  ASSERT_LT(expected, kT0 + 6 * kDay);
  h.Advance(expected - 1);
  EXPECT_TRUE(h.Take().empty());
  h.Advance(kT0 + 9 * kDay);
  std::vector<engine::RoutingEvent> ev;
  for (auto& e : h.Take()) {
    if (e.lead_id.empty()) ev.push_back(e);  // the account's
  }
  ASSERT_GE(ev.size(), 1u);
  EXPECT_EQ(ev[0].to_tier, "A");
  EXPECT_EQ(ev[0].occurred_at_ms, expected);
  EXPECT_THAT(ev[0].committee_roles, ElementsAre("buyer"));
}

// With no weight on intent an account's score moves only with its coverage: a role
// leaving is then the moment the score falls, found by the role's step, not by intent.
TEST(CommitteeTest, WithoutIntentInTheScoreARoleLeavingFailsTheTierAtItsCrossing) {
  Harness h(BuyerAndUserModel(R"(
  score: { fit_weight: 0.5, intent_weight: 0, committee_weight: 0.5 }
  committee: { roles: { buyer: 1, user: 1 }, role_min_intent: 20, contact_window: 365d }
  tiers:
    - { name: A, min_score: 60 }
    - { name: C, min_score: 0 }
)"));
  BuyerAndUser(h);
  h.Event("b1", "a1", "demo", kT0);  // buyer: 80 points, below 20 after 20d
  h.Event("b1", "a1", "demo", kT0);
  for (int i = 0; i < 8; ++i) h.Event("u1", "a1", "demo", kT0);  // user: 320 points, until 40d
  h.Take();
  ASSERT_EQ(h.AccountView("a1").tier, "A");  // 0.5 * 50 + 0.5 * 100
  auto buyer = [](int64_t t) { return 80 * std::exp2(-static_cast<double>(t - kT0) / (10.0 * kDay)); };
  const int64_t expected = FirstMs(kT0, kT0 + 30 * kDay, [&](int64_t t) { return buyer(t) < 20; });
  h.Advance(kT0 + 30 * kDay);
  auto ev = h.Take();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].to_tier, "C");
  EXPECT_EQ(ev[0].occurred_at_ms, expected) << "score 25 + 0.5 * 50 = 50 < 60 from the buyer's crossing on";
}

// Accounts scored on intent alone: B from 30; a positive signal and a negative one.
std::string AddingModel() {
  return CommitteeModel(R"(    demo:  { points: 40, half_life: 10d }
    unsub: { points: -10, half_life: 30d })",
                        R"(
  score: { fit_weight: 0, intent_weight: 1, committee_weight: 0 }
  committee: { roles: { buyer: 1 }, role_min_intent: 20, contact_window: 5d }
  tiers:
    - { name: B, min_score: 30 }
    - { name: C, min_score: 0 }
)");
}

// Events that only add to an account (no signal with negative points had) keep its
// tier's check as solved before: the account cannot fail the tier sooner, so that
// check is a lower bound still, and the demotion still comes at its millisecond. An
// account that has had a negative signal is solved after every event: what rises back
// could lift it to a tier above sooner.
TEST(CommitteeTest, AnAccountKeepsItsCheckWhileEventsOnlyAdd) {
  Harness h(AddingModel());
  h.Advance(kT0);
  for (const char* a : {"a1", "a2"}) h.Account(a, R"("industry":"software")");
  h.Lead("p1", "a1", R"("title":"cto")");
  h.Lead("n1", "a2", R"("title":"cto")");
  // a1 moves to B on a demo: below 30 at 10d * log2(4/3), 4.15d.
  h.Event("p1", "a1", "demo", kT0);
  const int64_t first = h.AccountView("a1").next_check_ms;
  ASSERT_EQ(h.AccountView("a1").tier, "B");
  ASSERT_GT(first, kT0 + 4 * kDay);
  ASSERT_LT(first, kT0 + 5 * kDay);
  // a2 on two demos, then an unsubscribe (80 - 10: still B).
  h.Event("n1", "a2", "demo", kT0);
  h.Event("n1", "a2", "demo", kT0);
  h.Event("n1", "a2", "unsub", kT0 + kHour);
  ASSERT_EQ(h.AccountView("a2").tier, "B");
  const int64_t a2_check = h.AccountView("a2").next_check_ms;

  h.Event("p1", "a1", "demo", kT0 + kDay);
  h.Event("n1", "a2", "demo", kT0 + kDay);
  EXPECT_EQ(h.AccountView("a1").next_check_ms, first) << "only added: the check solved before stays";
  EXPECT_GT(h.AccountView("a2").next_check_ms, a2_check) << "had a negative signal: solved anew";
  h.Take();

  // At the kept check nothing moves; solved anew, the check is no later than the demotion,
  // which comes at the first millisecond the two demos' intent is below 30.
  h.Advance(first);
  EXPECT_TRUE(h.Take().empty());
  const auto intent = [](int64_t t) {
    return 40 * std::exp2(-static_cast<double>(t - kT0) / (10.0 * kDay)) +
           40 * std::exp2(-static_cast<double>(t - kT0 - kDay) / (10.0 * kDay));
  };
  const int64_t expected = FirstMs(kT0 + kDay, kT0 + 100 * kDay, [&](int64_t t) { return intent(t) < 30; });
  EXPECT_GT(h.AccountView("a1").next_check_ms, first);
  EXPECT_LE(h.AccountView("a1").next_check_ms, expected);
  h.Advance(expected + kDay);
  std::vector<engine::RoutingEvent> a1;
  for (const auto& ev : h.Take()) {
    if (ev.account_id == "a1" && ev.lead_id.empty()) a1.push_back(ev);
  }
  ASSERT_EQ(a1.size(), 1u);
  EXPECT_EQ(a1[0].to_tier, "C");
  EXPECT_EQ(a1[0].occurred_at_ms, expected);
}

// An account read back under the model that wrote it takes its stored check, the one
// kept in memory, and is checked when that one is; read back without it, or under
// another model, it is solved from its state.
TEST(CommitteeTest, AnAccountReadBackKeepsTheCheckKeptInMemory) {
  Harness original(AddingModel());
  original.Advance(kT0);
  original.Account("a1", R"("industry":"software")");
  original.Lead("p1", "a1", R"("title":"cto")");
  original.Event("p1", "a1", "demo", kT0);
  const int64_t kept = original.AccountView("a1").next_check_ms;
  original.Event("p1", "a1", "demo", kT0 + kDay);
  ASSERT_EQ(original.AccountView("a1").next_check_ms, kept);
  std::vector<engine::Engine::Change> changes;
  original.engine().TakeChanges(&changes);
  auto restore = [&](Harness& into, bool with_due) {
    for (auto kind : {engine::EntityKind::kAccount, engine::EntityKind::kLead}) {
      for (const auto& c : changes) {
        if (c.kind != kind) continue;
        const auto due = with_due ? std::optional<int64_t>(c.due_ms) : std::nullopt;
        ASSERT_TRUE(into.engine().Restore(c.kind, c.id, c.bytes, due).ok()) << c.id;
      }
    }
    into.engine().ResumeAt(original.engine().stream_time());
  };
  Harness read_back(AddingModel()), without_due(AddingModel());
  restore(read_back, true);
  restore(without_due, false);
  EXPECT_EQ(read_back.AccountView("a1").next_check_ms, kept);
  EXPECT_GT(without_due.AccountView("a1").next_check_ms, kept) << "solved from the state: the later bound";
  // Another model (its B from 35): the stored check is that model's, solved anew.
  std::string other = AddingModel();
  other.replace(other.find("min_score: 30"), 13, "min_score: 35");
  Harness changed(other);
  restore(changed, true);
  EXPECT_NE(changed.AccountView("a1").next_check_ms, kept);

  // The original and the one read back are checked at the same moments: the same
  // routing events, at the same times, with the same ids.
  for (Harness* h : {&original, &read_back}) {
    h->Take();
    h->Advance(kT0 + 60 * kDay);
  }
  const auto x = original.Take(), y = read_back.Take();
  ASSERT_FALSE(x.empty());
  ASSERT_EQ(x.size(), y.size());
  for (size_t i = 0; i < x.size(); ++i) {
    EXPECT_EQ(x[i].routing_id, y[i].routing_id);
    EXPECT_EQ(x[i].occurred_at_ms, y[i].occurred_at_ms);
  }
}

}  // namespace
}  // namespace leadscore::testing
