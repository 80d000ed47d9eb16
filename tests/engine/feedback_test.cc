// The model's `feedback` section (SPEC section 3): outcomes that suppress their lead and
// its account for a while, and outcomes scored like a signal. Driven through the
// partition task, as the service and `replay` drive it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "common/time_units.h"
#include "engine/harness.h"

namespace leadscore::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// kTestModel (lead fit 80 for a vp at a software account; hot at score 60 and intent
// 20, warm at 30) with suppression and a REJECTED signal.
std::string FeedbackModel() {
  return std::string(kTestModel) +
         "feedback:\n"
         "  suppress: { OPPORTUNITY_CREATED: 10d, CLOSED_WON: 30d }\n"
         "  signals: { REJECTED: { points: -20, half_life: 5d } }\n";
}

std::string OutcomeJson(const std::string& kind, const std::string& lead, const std::string& account, int64_t at,
                        const std::string& routing_id = "r1") {
  return R"({"outcome":{"routing_id":")" + routing_id + R"(","lead_id":")" + lead + R"(","account_id":")" +
         account + R"(","kind":")" + kind + R"(","occurred_at_ms":")" + std::to_string(at) + "\"}}";
}

// A vp at a software account: fit 80, in tier warm (score 40) at kT0; then a demo
// (intent 40, score 60) puts the lead in hot.
void HotLead(Harness& h, const std::string& lead = "l1", const std::string& account = "a1") {
  h.Advance(kT0);
  h.Account(account, R"("industry":"software","country":"NL")");
  h.Lead(lead, account, R"("seniority":"vp","role":"buyer")");
  h.Event(lead, account, "demo", kT0, lead + "-demo");
  ASSERT_EQ(h.LeadView(lead).tier, "hot");
  h.Take();
}

const engine::RoutingEvent* Find(const std::vector<engine::RoutingEvent>& events, engine::EntityKind kind) {
  for (const auto& e : events) {
    if (e.entity == kind) return &e;
  }
  return nullptr;
}

const engine::Factor* FactorNamed(const std::vector<engine::Factor>& factors, const std::string& name) {
  for (const auto& f : factors) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

TEST(FeedbackTest, ClosedWonSuppressesTheLeadAndItsAccountWithOneRoutingEventEach) {
  Harness h(FeedbackModel());
  HotLead(h);
  h.Advance(kT0 + kHour);
  h.Json(OutcomeJson("CLOSED_WON", "l1", "a1", kT0 + 30 * kMin));
  const auto events = h.Take();
  ASSERT_EQ(events.size(), 2u);
  const int64_t until = kT0 + 30 * kMin + 30 * kDay;
  const auto* lead = Find(events, engine::EntityKind::kLead);
  ASSERT_NE(lead, nullptr);
  EXPECT_EQ(lead->from_tier, "hot");
  EXPECT_EQ(lead->to_tier, "suppressed");
  EXPECT_EQ(lead->direction, engine::Direction::kDown);
  EXPECT_EQ(lead->occurred_at_ms, kT0 + kHour) << "at stream time: an outcome does not move it";
  EXPECT_EQ(lead->reason, "suppressed: CLOSED_WON until " + FormatUtc(until));
  EXPECT_EQ(lead->sla_due_at_ms, 0) << "suppressed has no SLA";
  EXPECT_EQ(lead->action, "");
  const auto* account = Find(events, engine::EntityKind::kAccount);
  ASSERT_NE(account, nullptr);
  EXPECT_EQ(account->from_tier, "C");
  EXPECT_EQ(account->to_tier, "suppressed");
  EXPECT_EQ(account->direction, engine::Direction::kDown) << "suppressed is below every tier of the model";
  EXPECT_EQ(h.LeadView("l1").tier, "suppressed");
  EXPECT_EQ(h.LeadView("l1").suppressed_until_ms, until);
  EXPECT_EQ(h.AccountView("a1").tier, "suppressed");
  EXPECT_EQ(h.AccountView("a1").suppressed_until_ms, until);
}

TEST(FeedbackTest, NoUpWhileSuppressedAndLeftExactlyAtExpiryToTheTierThatHolds) {
  Harness h(FeedbackModel());
  HotLead(h);
  h.Json(OutcomeJson("CLOSED_WON", "l1", "a1", kT0));
  h.Take();
  const int64_t until = kT0 + 30 * kDay;
  // Strong signals meanwhile, from a second contact too: enough for hot and for A.
  h.Lead("l2", "a1", R"("seniority":"vp","role":"buyer")", kT0 + 28 * kDay);
  for (int i = 0; i < 4; ++i) {
    h.Event("l1", "a1", "demo", kT0 + 28 * kDay + i * kHour, "d1-" + std::to_string(i));
    h.Event("l2", "a1", "demo", kT0 + 28 * kDay + i * kHour, "d2-" + std::to_string(i));
  }
  for (const auto& e : h.Take()) {
    EXPECT_NE(e.lead_id, "l1") << "l1 is suppressed: " << e.from_tier << " -> " << e.to_tier;
    EXPECT_NE(e.entity, engine::EntityKind::kAccount) << "a1 is suppressed: " << e.from_tier << " -> " << e.to_tier;
  }
  EXPECT_EQ(h.LeadView("l2").tier, "hot") << "a lead without an outcome is routed as ever";
  EXPECT_GE(h.LeadView("l1").score, 60) << "the score keeps counting while suppressed";

  h.Advance(until - 1);
  EXPECT_TRUE(h.Take().empty()) << "a millisecond before the end it still holds";
  EXPECT_EQ(h.LeadView("l1").tier, "suppressed");
  h.Advance(until);
  const auto events = h.Take();
  ASSERT_EQ(events.size(), 2u);
  const auto* lead = Find(events, engine::EntityKind::kLead);
  ASSERT_NE(lead, nullptr);
  EXPECT_EQ(lead->from_tier, "suppressed");
  EXPECT_EQ(lead->to_tier, "hot") << "straight to the highest tier whose minimums hold";
  EXPECT_EQ(lead->direction, engine::Direction::kUp);
  EXPECT_EQ(lead->occurred_at_ms, until);
  EXPECT_EQ(lead->sla_due_at_ms, DueAt(until, *ParseDuration("2bd", true)));
  EXPECT_THAT(lead->reason, StartsWith("suppression ended, score "));
  const auto* account = Find(events, engine::EntityKind::kAccount);
  ASSERT_NE(account, nullptr);
  EXPECT_EQ(account->to_tier, "A");
  EXPECT_EQ(account->occurred_at_ms, until);
  EXPECT_EQ(h.LeadView("l1").suppressed_until_ms, 0) << "shown only while suppressed";
  h.Advance(until + 5 * kDay);
  for (const auto& e : h.Take()) EXPECT_NE(e.from_tier, "suppressed") << "left once";
}

TEST(FeedbackTest, AnOutcomeWithoutALeadSuppressesOnlyTheAccount) {
  Harness h(FeedbackModel());
  HotLead(h);
  h.Json(OutcomeJson("OPPORTUNITY_CREATED", "", "a1", kT0));
  const auto events = h.Take();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].entity, engine::EntityKind::kAccount);
  EXPECT_EQ(events[0].to_tier, "suppressed");
  EXPECT_EQ(h.LeadView("l1").tier, "hot");
  h.Advance(kT0 + 10 * kDay);
  const auto after = h.Take();
  const auto* account = Find(after, engine::EntityKind::kAccount);
  ASSERT_NE(account, nullptr);
  EXPECT_EQ(account->from_tier, "suppressed");
  EXPECT_EQ(account->occurred_at_ms, kT0 + 10 * kDay);
}

TEST(FeedbackTest, ALaterOutcomeExtendsTheSuppressionNeverShortensIt) {
  Harness h(FeedbackModel());
  HotLead(h);
  h.Json(OutcomeJson("OPPORTUNITY_CREATED", "l1", "a1", kT0));  // until kT0 + 10d
  h.Take();
  h.Event("l1", "a1", "demo", kT0 + 5 * kDay, "later");  // stream time on, still suppressed
  h.Json(OutcomeJson("CLOSED_WON", "l1", "a1", kT0 + 5 * kDay));  // until kT0 + 35d
  h.Json(OutcomeJson("OPPORTUNITY_CREATED", "l1", "a1", kT0 + 5 * kDay));  // until kT0 + 15d: shorter
  EXPECT_TRUE(h.Take().empty()) << "already suppressed: no routing event for an extension";
  h.Advance(kT0 + 35 * kDay - 1);
  EXPECT_TRUE(h.Take().empty()) << "not left at the first outcome's end";
  EXPECT_EQ(h.LeadView("l1").tier, "suppressed");
  h.Advance(kT0 + 35 * kDay);
  const auto events = h.Take();
  ASSERT_EQ(events.size(), 2u);
  for (const auto& e : events) {
    EXPECT_EQ(e.from_tier, "suppressed");
    EXPECT_EQ(e.occurred_at_ms, kT0 + 35 * kDay);
  }
}

TEST(FeedbackTest, AnExpiredSuppressionDoesNothing) {
  Harness h(FeedbackModel());
  HotLead(h);
  h.Advance(kT0 + 40 * kDay);
  h.Take();
  h.Json(OutcomeJson("CLOSED_WON", "l1", "a1", kT0 + 9 * kDay));  // ended at kT0 + 39d
  EXPECT_TRUE(h.Take().empty());
  EXPECT_NE(h.LeadView("l1").tier, "suppressed");
}

TEST(FeedbackTest, ADisqualifiedLeadStaysDisqualified) {
  Harness h(FeedbackModel());
  h.Advance(kT0);
  h.Account("a1", R"("industry":"software")");
  h.Lead("l1", "a1", R"("title":"student")");
  ASSERT_EQ(h.LeadView("l1").tier, "disqualified");
  h.Take();
  h.Json(OutcomeJson("CLOSED_WON", "l1", "a1", kT0));
  for (const auto& e : h.Take()) EXPECT_NE(e.entity, engine::EntityKind::kLead) << e.to_tier;
  EXPECT_EQ(h.LeadView("l1").tier, "disqualified");
  h.Advance(kT0 + 31 * kDay);
  for (const auto& e : h.Take()) EXPECT_NE(e.entity, engine::EntityKind::kLead) << e.to_tier;
  EXPECT_EQ(h.LeadView("l1").tier, "disqualified");
}

TEST(FeedbackTest, AModelWithoutFeedbackRoutesAsIfOutcomesWereNotThere) {
  Harness h;  // kTestModel: no feedback section
  HotLead(h);
  h.Json(OutcomeJson("CLOSED_WON", "l1", "a1", kT0));
  h.Json(OutcomeJson("REJECTED", "l1", "a1", kT0));
  EXPECT_TRUE(h.Take().empty());
  EXPECT_EQ(h.LeadView("l1").tier, "hot");
  EXPECT_EQ(FactorNamed(h.LeadView("l1").factors, "REJECTED"), nullptr);
}

// Suppression is state with a timer like a decay crossing: written with the entity and
// its due time, an evicted or restarted entity comes back and leaves at the same ms,
// with the same routing ids as the engine that never stopped.
TEST(FeedbackTest, SuppressionSurvivesASnapshotAndEndsOnTimeAfterARestore) {
  Harness original(FeedbackModel());
  HotLead(original);
  original.Json(OutcomeJson("CLOSED_WON", "l1", "a1", kT0 + kMin));
  original.Take();
  std::vector<engine::Engine::Change> changes;
  original.engine().TakeChanges(&changes);
  const int64_t until = kT0 + kMin + 30 * kDay;
  ASSERT_EQ(changes.size(), 2u);
  for (const auto& c : changes) EXPECT_EQ(c.due_ms, until) << c.id << ": the store's timer index has the end";

  Harness restored(FeedbackModel());
  for (auto kind : {engine::EntityKind::kAccount, engine::EntityKind::kLead}) {
    for (const auto& c : changes) {
      if (c.kind != kind) continue;
      ASSERT_TRUE(restored.engine().Restore(c.kind, c.id, c.bytes, c.due_ms).ok()) << c.id;
    }
  }
  restored.engine().ResumeAt(original.engine().stream_time());
  EXPECT_EQ(restored.LeadView("l1").tier, "suppressed");
  EXPECT_EQ(restored.LeadView("l1").next_check_ms, until);
  EXPECT_EQ(restored.AccountView("a1").next_check_ms, until);
  for (Harness* h : {&original, &restored}) {
    h->Advance(until - 1);
    EXPECT_TRUE(h->Take().empty());
  }
  original.Advance(until);
  restored.Advance(until);
  const auto x = original.Take(), y = restored.Take();
  ASSERT_EQ(x.size(), 2u);
  ASSERT_EQ(y.size(), 2u);
  for (size_t i = 0; i < x.size(); ++i) {
    EXPECT_EQ(x[i].routing_id, y[i].routing_id);
    EXPECT_EQ(y[i].from_tier, "suppressed");
    EXPECT_EQ(y[i].occurred_at_ms, until);
    EXPECT_EQ(x[i].to_tier, y[i].to_tier);
  }
}

TEST(FeedbackTest, RejectedLowersTheLeadsIntentAsAFactorThatDecaysWithItsHalfLife) {
  Harness h(FeedbackModel());
  HotLead(h);
  const double intent_before = h.LeadView("l1").intent;
  ASSERT_DOUBLE_EQ(intent_before, 40);
  h.Json(OutcomeJson("REJECTED", "l1", "a1", kT0));
  const auto events = h.Take();
  const auto* lead = Find(events, engine::EntityKind::kLead);
  ASSERT_NE(lead, nullptr) << "intent 20, score 50 < 60 - 5: down";
  EXPECT_EQ(lead->to_tier, "warm");
  const auto* f = FactorNamed(lead->factors, "REJECTED");
  ASSERT_NE(f, nullptr) << "listed among the factors under the kind's name";
  EXPECT_DOUBLE_EQ(f->points, -20);
  EXPECT_EQ(f->count, 1);
  EXPECT_EQ(f->last_at_ms, kT0);
  EXPECT_DOUBLE_EQ(h.LeadView("l1").intent, 20);
  const auto account = h.AccountView("a1");  // kept: the factor found points into it
  const auto* on_account = FactorNamed(account.factors, "REJECTED");
  ASSERT_NE(on_account, nullptr) << "scored on the lead's account too";
  EXPECT_DOUBLE_EQ(on_account->points, -20);

  h.Advance(kT0 + 5 * kDay);  // one half-life of REJECTED, half of demo's
  const auto view = h.LeadView("l1");
  const auto* decayed = FactorNamed(view.factors, "REJECTED");
  ASSERT_NE(decayed, nullptr);
  EXPECT_NEAR(decayed->points, -10, 1e-9);
  EXPECT_NEAR(view.intent, 40 * std::exp2(-0.5) - 10, 1e-9);
}

// A REJECTED that fades is a decaying negative signal: the UP it allows comes out at
// the first millisecond it holds, like any decay crossing.
TEST(FeedbackTest, AFadingRejectedCausesAnUpAtTheFirstMillisecondItHolds) {
  std::string model = FeedbackModel();
  const std::string from = "REJECTED: { points: -20, half_life: 5d }";
  model.replace(model.find(from), from.size(), "REJECTED: { points: -60, half_life: 1d }");
  Harness h(model);
  HotLead(h);
  h.Event("l1", "a1", "demo", kT0, "second-demo");  // intent 80
  h.Take();
  h.Json(OutcomeJson("REJECTED", "l1", "a1", kT0));  // intent 20, score 50 < 60 - 5
  const auto down = h.Take();
  const auto* lead = Find(down, engine::EntityKind::kLead);
  ASSERT_NE(lead, nullptr);
  ASSERT_EQ(lead->to_tier, "warm");
  h.Advance(kT0 + 2 * kDay);
  const engine::RoutingEvent* up = nullptr;
  const auto taken = h.Take();  // kept: `up` points into it
  for (const auto& e : taken) {
    if (e.entity == engine::EntityKind::kLead && e.to_tier == "hot") up = &e;
  }
  ASSERT_NE(up, nullptr) << "hot again once REJECTED has faded enough";
  // hot needs score 40 + intent / 2 >= 60: intent 80 * 2^(-d/10) - 60 * 2^(-d) >= 40.
  auto intent = [](int64_t t) {
    const double d = static_cast<double>(t - kT0) / kDay;
    return 80 * std::exp2(-d / 10) - 60 * std::exp2(-d);
  };
  EXPECT_GE(intent(up->occurred_at_ms), 40);
  EXPECT_LT(intent(up->occurred_at_ms - 1), 40);
}

TEST(FeedbackTest, TheSameOutcomeTwiceIsScoredOnce) {
  Harness h(FeedbackModel());
  HotLead(h);
  h.Json(OutcomeJson("REJECTED", "l1", "a1", kT0));
  const double once = h.LeadView("l1").intent;
  h.Json(OutcomeJson("REJECTED", "l1", "a1", kT0));
  EXPECT_EQ(h.LeadView("l1").intent, once) << "a redelivered outcome";
  EXPECT_EQ(h.engine().stats().outcome_signals_skipped, 1u);
  h.Json(OutcomeJson("REJECTED", "l1", "a1", kT0, "r2"));
  EXPECT_EQ(FactorNamed(h.LeadView("l1").factors, "REJECTED")->count, 2) << "an answer to another routing event";
}

TEST(FeedbackTest, ALeadThatMovesTakesItsOutcomeSignalsWithIt) {
  Harness h(FeedbackModel());
  HotLead(h);
  h.Json(OutcomeJson("REJECTED", "l1", "a1", kT0));
  ASSERT_NE(FactorNamed(h.AccountView("a1").factors, "REJECTED"), nullptr);
  h.Lead("l1", "a2", R"("seniority":"vp","role":"buyer")", 2);
  EXPECT_EQ(FactorNamed(h.AccountView("a1").factors, "REJECTED"), nullptr);
  const auto a2 = h.AccountView("a2");  // kept: the factor found points into it
  const auto* moved = FactorNamed(a2.factors, "REJECTED");
  ASSERT_NE(moved, nullptr);
  EXPECT_DOUBLE_EQ(moved->points, -20);
}

}  // namespace
}  // namespace leadscore::testing
