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
  ASSERT_EQ(quiet.changes, 0u);
  EXPECT_FALSE(quiet.has_history()) << "the defaults in the bytes make none";
  EXPECT_EQ(codec.EncodeLead(quiet, accounts), quiet_bytes);

  ASSERT_TRUE(codec.DecodeLead("busy", busy_bytes, &busy, &account).ok());
  busy.account = accounts.Intern(account);
  ASSERT_TRUE(busy.has_history());
  ASSERT_GE(busy.changes, 1u);
  ASSERT_EQ(busy.history().recent.size(), busy.changes) << "every tier change, as routed";
  EXPECT_EQ(busy.history().recent.back().at_ms, kT0);
  EXPECT_FALSE(busy.history().recent.back().routing_id.empty());
  EXPECT_EQ(codec.EncodeLead(busy, accounts), busy_bytes);
}

// kTestModel with an outcome scored as a signal: the history holds a decaying sum.
TEST(EntityHistoryTest, ViewsDecayACopyAndLeaveTheEntitysOutcomeSumsAlone) {
  const std::string model = std::string(kTestModel) +
                            "feedback:\n"
                            "  signals: { REJECTED: { points: -20, half_life: 5d } }\n";
  Harness viewed(model), untouched(model);
  for (Harness* h : {&viewed, &untouched}) {
    h->Advance(kT0);
    h->Account("a1", R"("industry":"software","country":"NL")");
    h->Lead("l1", "a1", R"("seniority":"vp","role":"buyer")");
    h->Event("l1", "a1", "demo", kT0, "e1");
    h->Json(R"({"outcome":{"routing_id":"r1","lead_id":"l1","account_id":"a1","kind":"REJECTED","occurred_at_ms":")" +
            std::to_string(kT0 + kHour) + "\"}}");
  }
  for (int day = 1; day <= 4; ++day) {
    for (Harness* h : {&viewed, &untouched}) h->Advance(kT0 + day * kDay);
    const engine::EntityView lead = viewed.LeadView("l1");
    const engine::EntityView account = viewed.AccountView("a1");
    EXPECT_LT(lead.intent, 40) << "the view scores the outcome: day " << day;
    EXPECT_GE(account.intent, 0);
  }
  for (Harness* h : {&viewed, &untouched}) h->Advance(kT0 + 6 * kDay);
  EXPECT_EQ(viewed.LeadView("l1").intent, untouched.LeadView("l1").intent);
  EXPECT_EQ(viewed.LeadView("l1").score, untouched.LeadView("l1").score);
  EXPECT_EQ(viewed.AccountView("a1").intent, untouched.AccountView("a1").intent);
  EXPECT_EQ(viewed.Take().size(), untouched.Take().size());
}

}  // namespace
}  // namespace leadscore::testing
