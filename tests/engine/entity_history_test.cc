// An entity's tier changes and outcomes live out of line (EntityHistory), made on first
// use: an entity without them has none, whether made in memory or read from the store;
// one with them keeps them through the store; a copy (what the views decay) has its own.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/harness.h"
#include "engine/ids.h"
#include "engine/snapshot_codec.h"
#include "engine/state.h"

namespace leadscore::testing {
namespace {

TEST(EntityHistoryTest, ReadingTheDefaultsMakesNoHistoryAndACopyHasItsOwn) {
  engine::EntityCommon e;
  EXPECT_EQ(e.history().suppressed_until, engine::kLongAgo);
  EXPECT_TRUE(e.history().recent.empty());
  EXPECT_FALSE(e.has_history()) << "read, not made";
  e.mutable_history().outcomes = 1;
  ASSERT_TRUE(e.has_history());
  engine::EntityCommon copy = e;
  copy.mutable_history().outcomes = 5;
  EXPECT_EQ(e.history().outcomes, 1u) << "the copy's history is its own";
  copy = e;
  EXPECT_EQ(copy.history().outcomes, 1u);
  engine::EntityCommon moved = std::move(copy);
  EXPECT_EQ(moved.history().outcomes, 1u);
}

TEST(EntityHistoryTest, TheStoreGivesAHistoryOnlyToAnEntityThatHadOne) {
  const auto model = MustLoad(kTestModel);
  const engine::SnapshotCodec codec(*model);
  engine::IdTable accounts;
  Harness h;
  h.Advance(kT0);
  h.Event("quiet", "a0", "view", kT0, "e1");  // no profiles: fit 0, it stays where it was born
  h.Account("a1", R"("industry":"software","country":"NL")");
  h.Lead("busy", "a1", R"("seniority":"vp","role":"buyer")");
  h.Event("busy", "a1", "demo", kT0, "e2");  // fit 80, intent 40: hot
  ASSERT_EQ(h.LeadView("busy").tier, "hot");

  std::vector<engine::Engine::Change> changes;
  h.engine().TakeChanges(&changes);
  std::string quiet_bytes, busy_bytes;
  for (const auto& c : changes) {
    if (c.kind != engine::EntityKind::kLead) continue;
    (c.id == "quiet" ? quiet_bytes : busy_bytes) = c.bytes;
  }
  ASSERT_FALSE(quiet_bytes.empty());
  ASSERT_FALSE(busy_bytes.empty());

  engine::LeadState quiet, busy;
  std::string account;
  ASSERT_TRUE(codec.DecodeLead("quiet", quiet_bytes, &quiet, &account).ok());
  quiet.account = accounts.Intern(account);
  ASSERT_EQ(quiet.history().changes, 0u);
  EXPECT_FALSE(quiet.has_history()) << "the defaults in the bytes make none";
  EXPECT_EQ(codec.EncodeLead(quiet, accounts), quiet_bytes);

  ASSERT_TRUE(codec.DecodeLead("busy", busy_bytes, &busy, &account).ok());
  busy.account = accounts.Intern(account);
  ASSERT_TRUE(busy.has_history());
  ASSERT_GE(busy.history().changes, 1u);
  ASSERT_EQ(busy.history().recent.size(), busy.history().changes) << "every tier change, as routed";
  EXPECT_EQ(busy.history().recent.back().at_ms, kT0);
  EXPECT_FALSE(busy.history().recent.back().routing_id.empty());
  EXPECT_EQ(codec.EncodeLead(busy, accounts), busy_bytes);
}

// kTestModel with suppression and an outcome scored as a signal.
std::string FeedbackModel() {
  return std::string(kTestModel) +
         "feedback:\n"
         "  suppress: { OPPORTUNITY_CREATED: 10d }\n"
         "  signals: { REJECTED: { points: -20, half_life: 5d } }\n";
}

std::string Outcome(const std::string& kind, int64_t at) {
  return R"({"outcome":{"routing_id":"r1","lead_id":"l1","account_id":"a1","kind":")" + kind +
         R"(","occurred_at_ms":")" + std::to_string(at) + "\"}}";
}

const engine::Factor* FactorNamed(const engine::EntityView& v, const std::string& name) {
  for (const auto& f : v.factors) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

TEST(EntityHistoryTest, OutcomesAndSuppressionComeBackFromTheStoreByteForByte) {
  const auto model = MustLoad(FeedbackModel());
  const engine::SnapshotCodec codec(*model);
  engine::IdTable accounts, leads;
  Harness h(FeedbackModel());
  h.Advance(kT0);
  h.Account("a1", R"("industry":"software","country":"NL")");
  h.Lead("l1", "a1", R"("seniority":"vp","role":"buyer")");
  h.Event("l1", "a1", "demo", kT0, "e1");
  h.Advance(kT0 + kHour);
  h.Json(Outcome("REJECTED", kT0 + 30 * kMin));
  h.Json(Outcome("OPPORTUNITY_CREATED", kT0 + 40 * kMin));
  ASSERT_EQ(h.LeadView("l1").tier, "suppressed");

  std::vector<engine::Engine::Change> changes;
  h.engine().TakeChanges(&changes);
  std::string lead_bytes, account_bytes;
  for (const auto& c : changes) (c.kind == engine::EntityKind::kLead ? lead_bytes : account_bytes) = c.bytes;
  ASSERT_FALSE(lead_bytes.empty());
  ASSERT_FALSE(account_bytes.empty());

  engine::LeadState lead;
  std::string account;
  ASSERT_TRUE(codec.DecodeLead("l1", lead_bytes, &lead, &account).ok());
  lead.account = accounts.Intern(account);
  leads.Intern("l1");
  ASSERT_TRUE(lead.has_history());
  EXPECT_EQ(lead.history().outcomes, 2u);
  EXPECT_EQ(lead.history().suppressed_until, kT0 + 40 * kMin + 10 * kDay);
  EXPECT_NE(lead.history().outcome_active, 0) << "REJECTED scored";
  EXPECT_EQ(lead.history().outcomes_seen.size(), 1u);
  EXPECT_EQ(codec.EncodeLead(lead, accounts), lead_bytes);

  engine::AccountState acct;
  ASSERT_TRUE(codec.DecodeAccount("a1", account_bytes, leads, &acct).ok());
  ASSERT_TRUE(acct.has_history()) << "its lead's outcome sum, and its suppression";
  EXPECT_EQ(acct.history().outcome_active, lead.history().outcome_active);
  EXPECT_EQ(codec.EncodeAccount(acct, leads), account_bytes);
}

TEST(EntityHistoryTest, ViewsDecayACopyAndLeaveTheEntitysOutcomeSumsAlone) {
  Harness viewed(FeedbackModel()), untouched(FeedbackModel());
  for (Harness* h : {&viewed, &untouched}) {
    h->Advance(kT0);
    h->Account("a1", R"("industry":"software","country":"NL")");
    h->Lead("l1", "a1", R"("seniority":"vp","role":"buyer")");
    h->Event("l1", "a1", "demo", kT0, "e1");
    h->Json(Outcome("REJECTED", kT0 + kHour));
  }
  double rejected = 0;
  for (int day = 1; day <= 4; ++day) {
    for (Harness* h : {&viewed, &untouched}) h->Advance(kT0 + day * kDay);
    const engine::EntityView lead = viewed.LeadView("l1");
    const engine::Factor* f = FactorNamed(lead, "REJECTED");
    ASSERT_NE(f, nullptr) << "the outcome is scored: day " << day;
    EXPECT_LT(f->points, 0);
    if (day > 1) EXPECT_GT(f->points, rejected) << "and decays toward 0 from one view to the next";
    rejected = f->points;
    ASSERT_NE(FactorNamed(viewed.AccountView("a1"), "REJECTED"), nullptr);
  }
  for (Harness* h : {&viewed, &untouched}) h->Advance(kT0 + 6 * kDay);
  const engine::EntityView viewed_lead = viewed.LeadView("l1");  // kept: the factors found point into them
  const engine::EntityView untouched_lead = untouched.LeadView("l1");
  const engine::Factor* v = FactorNamed(viewed_lead, "REJECTED");
  const engine::Factor* u = FactorNamed(untouched_lead, "REJECTED");
  ASSERT_NE(v, nullptr);
  ASSERT_NE(u, nullptr);
  EXPECT_EQ(v->points, u->points) << "as if never viewed";
  EXPECT_EQ(viewed.LeadView("l1").intent, untouched.LeadView("l1").intent);
  EXPECT_EQ(viewed.LeadView("l1").score, untouched.LeadView("l1").score);
  EXPECT_EQ(viewed.AccountView("a1").intent, untouched.AccountView("a1").intent);
  EXPECT_EQ(viewed.Take().size(), untouched.Take().size());
}

}  // namespace
}  // namespace leadscore::testing
