// The calibration report on a small story whose every number was worked out by hand
// (the intervals with Python's math module, from the formulas, not from this code):
// four leads and one account routed, ten outcomes, three of which answer nothing.
#include "report/report.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <array>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include "cli/market_file.h"
#include "cli/replay.h"
#include "cli/report_command.h"
#include "report/join.h"
#include "report/stats.h"
#include "report/suggest.h"

namespace leadscore::testing {
namespace {

using codec::WireOutcome;
using codec::WireOutcomeKind;
using engine::Direction;
using engine::EntityKind;
using engine::RoutingEvent;
using ::testing::ElementsAre;
using ::testing::Pair;

constexpr int64_t kT = 1790000000000, kH = 3600 * 1000, kD = 24 * kH;
constexpr double kTol = 1e-9;

std::shared_ptr<const model::Model> ExampleModel() {
  auto loaded = model::LoadModelFromFile(std::string(LEADSCORE_SOURCE_DIR) + "/examples/model.yaml");
  EXPECT_TRUE(loaded.ok()) << loaded.ErrorText();
  return loaded.model;
}

RoutingEvent Lead(std::string id, std::string lead, std::string from, std::string to, int64_t at, double score,
                  std::vector<std::string> factors, int64_t sla_due, Direction dir = Direction::kUp) {
  RoutingEvent ev;
  ev.routing_id = std::move(id);
  ev.entity = EntityKind::kLead;
  ev.lead_id = std::move(lead);
  ev.account_id = "acme";
  ev.from_tier = std::move(from);
  ev.to_tier = std::move(to);
  ev.direction = dir;
  ev.score = score;
  for (auto& f : factors) ev.factors.push_back({std::move(f), 10, 1, at});
  ev.model_version = "v1";
  ev.occurred_at_ms = at;
  ev.sla_due_at_ms = sla_due;
  return ev;
}

WireOutcome Outcome(std::string lead, WireOutcomeKind kind, int64_t at, std::string reason = "",
                    std::string routing_id = "", std::string account = "acme") {
  return {.routing_id = std::move(routing_id), .lead_id = std::move(lead), .account_id = std::move(account),
          .kind = kind, .reason = std::move(reason), .occurred_at_ms = at};
}

struct Story {
  std::vector<RoutingEvent> routed;
  std::vector<WireOutcome> outcomes;
};

Story MakeStory() {
  Story s;
  s.routed = {
      Lead("r1", "l1", "low", "medium", kT, 45, {"pricing_page_view", "senior_buyer"}, kT + 5 * kD),
      Lead("r2", "l2", "low", "medium", kT + 1 * kH, 42, {"email_click", "mid_market"}, kT + 1 * kH + 5 * kD),
      Lead("r4", "l3", "low", "high", kT + 3 * kH, 66, {"product_trial_started", "senior_buyer"}, kT + 51 * kH),
      Lead("r7", "l4", "low", "medium", kT + 5 * kH, 48, {"pricing_page_view", "email_click"}, kT + 5 * kH + 5 * kD),
      Lead("r3", "l1", "medium", "high", kT + 2 * kD, 70, {"pricing_page_view", "webinar_attended", "senior_buyer"},
           kT + 4 * kD),
      Lead("r5", "l2", "medium", "low", kT + 10 * kD, 30, {}, 0, Direction::kDown),
  };
  RoutingEvent account;
  account.routing_id = "r6";
  account.entity = EntityKind::kAccount;
  account.account_id = "acme";
  account.from_tier = "C";
  account.to_tier = "B";
  account.score = 50;
  account.factors = {{"pricing_page_view", 30, 2, kT}};
  account.model_version = "v1";
  account.occurred_at_ms = kT;
  s.routed.insert(s.routed.begin() + 1, account);
  using K = WireOutcomeKind;
  s.outcomes = {
      Outcome("l1", K::kAccepted, kT + kD),                 // -> r1 (r3 comes later)
      Outcome("l1", K::kOpportunityCreated, kT + 3 * kD),   // -> r3
      Outcome("l1", K::kClosedWon, kT + 20 * kD),           // -> r3
      Outcome("l2", K::kRejected, kT + 6 * kD, "no_budget"),  // -> r2, after its SLA
      Outcome("", K::kRejected, kT + 4 * kH, "bad_timing", "r4"),  // by routing_id
      Outcome("l9", K::kAccepted, kT + kD),                 // unknown lead: unmatched
      Outcome("l3", K::kAccepted, kT),                      // before l3's routing: unmatched
      Outcome("", K::kClosedWon, kT + 30 * kD),             // the account's -> r6
      Outcome("", K::kAccepted, kT, "", "nope"),            // unknown routing_id: unmatched
      Outcome("l4", K::kClosedWon, kT + 40 * kD),           // -> r7
  };
  return s;
}

TEST(ReportStatsTest, WilsonAndKatzMatchTheirFormulasWorkedByHand) {
  EXPECT_NEAR(report::Wilson(1, 3).low, 0.061491944720396208, kTol);
  EXPECT_NEAR(report::Wilson(1, 3).high, 0.79234039919795218, kTol);
  EXPECT_NEAR(report::Wilson(0, 2).low, 0, kTol);
  EXPECT_NEAR(report::Wilson(0, 2).high, 0.65761977249334691, kTol);
  EXPECT_NEAR(report::Wilson(1, 1).low, 0.20654931437723745, kTol);
  EXPECT_NEAR(report::Wilson(1, 1).high, 1, kTol);
  EXPECT_EQ(report::Wilson(0, 0).high, 1) << "nothing seen, nothing known";
  auto rr = report::KatzRatio(1, 2, 1, 3);
  ASSERT_TRUE(rr);
  EXPECT_NEAR(rr->value, 1.5, kTol);
  EXPECT_NEAR(rr->interval.low, 0.18058784345928491, kTol);
  EXPECT_NEAR(rr->interval.high, 12.459310421453045, kTol);
  EXPECT_FALSE(report::KatzRatio(0, 2, 1, 3)) << "a zero makes the log interval infinite: none is made up";
  EXPECT_EQ(*report::Median({143, 24, 955}), 143);
  EXPECT_EQ(*report::Median({24, 1}), 12.5);
  EXPECT_FALSE(report::Median({}));
}

TEST(ReportJoinTest, ByRoutingIdElseTheLatestUpRoutingOfTheLeadOrAccountAtOrBefore) {
  const Story s = MakeStory();
  const report::Joined j = report::Join(s.routed, s.outcomes);
  EXPECT_EQ(j.by_routing_id, 1u);
  EXPECT_EQ(j.by_time, 6u);
  EXPECT_THAT(j.unmatched, ElementsAre(5, 6, 8));
  auto answers_of = [&](const std::string& id) {
    for (size_t i = 0; i < s.routed.size(); ++i) {
      if (s.routed[i].routing_id == id) return j.answers[i];
    }
    return std::vector<size_t>{};
  };
  EXPECT_THAT(answers_of("r1"), ElementsAre(0));
  EXPECT_THAT(answers_of("r3"), ElementsAre(1, 2));
  EXPECT_THAT(answers_of("r2"), ElementsAre(3));
  EXPECT_THAT(answers_of("r4"), ElementsAre(4));
  EXPECT_THAT(answers_of("r6"), ElementsAre(7));
  EXPECT_THAT(answers_of("r7"), ElementsAre(9));
  EXPECT_TRUE(answers_of("r5").empty()) << "a DOWN routing is answered only by its routing_id";
}

TEST(ReportTest, EveryNumberOfTheSmallStory) {
  const auto model = ExampleModel();
  const Story s = MakeStory();
  const report::Report r = report::BuildReport(*model, s.routed, s.outcomes);
  EXPECT_EQ(r.routing_events, 7u);
  EXPECT_EQ(r.outcomes, 10u);
  EXPECT_EQ(r.matched_by_routing_id, 1u);
  EXPECT_EQ(r.matched_by_time, 6u);
  ASSERT_EQ(r.unmatched.size(), 3u);
  EXPECT_EQ(r.unmatched[0].lead_id, "l9");
  EXPECT_EQ(r.unmatched[2].routing_id, "nope");
  ASSERT_EQ(r.versions.size(), 1u);
  const report::Calibration& c = r.versions[0];
  EXPECT_EQ(c.model_version, "v1");
  EXPECT_EQ(c.up_events, 6u);
  EXPECT_EQ(c.down_events, 1u);

  auto tier = [&](const std::string& entity, const std::string& name) -> const report::TierRow& {
    for (const auto& t : c.tiers) {
      if (t.entity == entity && t.tier == name) return t;
    }
    ADD_FAILURE() << "no tier " << entity << " " << name;
    static const report::TierRow none;
    return none;
  };
  // Every routable tier of the model is listed, routed or not; the bottom ones are not.
  ASSERT_EQ(c.tiers.size(), 5u);
  EXPECT_EQ(c.tiers[0].tier, "very_high");
  EXPECT_EQ(tier("lead", "very_high").routed, 0u);
  EXPECT_TRUE(tier("lead", "very_high").small);

  const auto& medium = tier("lead", "medium");  // r1 accepted, r2 rejected late, r7 won 40 days on
  EXPECT_EQ(medium.routed, 3u);
  EXPECT_EQ(medium.answered, 3u);
  EXPECT_EQ(medium.accepted, 1u);
  EXPECT_EQ(medium.rejected, 1u);
  EXPECT_THAT(medium.rejection_reasons, ElementsAre(Pair("no_budget", 1)));
  EXPECT_EQ(medium.opportunities, 0u);
  EXPECT_EQ(medium.won, 1u);
  EXPECT_EQ(medium.lost, 0u);
  EXPECT_NEAR(medium.conversion, 1.0 / 3, kTol);
  EXPECT_NEAR(medium.conversion_interval.low, 0.061491944720396208, kTol);
  EXPECT_NEAR(medium.conversion_interval.high, 0.79234039919795218, kTol);
  ASSERT_TRUE(medium.median_hours_to_first_answer);
  EXPECT_NEAR(*medium.median_hours_to_first_answer, 143, kTol);  // of 24, 143 and 955 h
  EXPECT_EQ(medium.with_sla, 3u);
  EXPECT_EQ(medium.sla_met, 1u);
  EXPECT_TRUE(medium.small);

  const auto& high = tier("lead", "high");  // r4 rejected within 1 h (by id), r3 opportunity and won
  EXPECT_EQ(high.routed, 2u);
  EXPECT_EQ(high.answered, 2u);
  EXPECT_EQ(high.accepted, 0u);
  EXPECT_EQ(high.rejected, 1u);
  EXPECT_THAT(high.rejection_reasons, ElementsAre(Pair("bad_timing", 1)));
  EXPECT_EQ(high.opportunities, 1u);
  EXPECT_EQ(high.won, 1u);
  EXPECT_NEAR(high.conversion, 0.5, kTol);
  EXPECT_NEAR(high.conversion_interval.low, 0.094531205734230739, kTol);
  EXPECT_NEAR(high.conversion_interval.high, 0.90546879426576932, kTol);
  EXPECT_NEAR(*high.median_hours_to_first_answer, 12.5, kTol);  // of 24 and 1 h
  EXPECT_EQ(high.with_sla, 2u);
  EXPECT_EQ(high.sla_met, 2u);

  const auto& b = tier("account", "B");
  EXPECT_EQ(b.routed, 1u);
  EXPECT_EQ(b.won, 1u);
  EXPECT_NEAR(b.conversion_interval.low, 0.20654931437723745, kTol);
  EXPECT_NEAR(b.conversion_interval.high, 1, kTol);
  EXPECT_NEAR(*b.median_hours_to_first_answer, 720, kTol);
  EXPECT_EQ(b.with_sla, 0u);
  EXPECT_EQ(tier("account", "A").routed, 0u);

  auto factor = [&](const std::string& entity, const std::string& name) -> const report::FactorRow* {
    for (const auto& f : c.factors) {
      if (f.entity == entity && f.name == name) return &f;
    }
    return nullptr;
  };
  // Lead UP events: r1 (pricing, senior), r2 (click, mid), r4 (trial, senior),
  // r7 (pricing, click) won, r3 (pricing, webinar, senior) won.
  const auto* click = factor("lead", "email_click");
  ASSERT_TRUE(click);
  EXPECT_EQ(click->kind, "signal");
  EXPECT_EQ(click->with, 2u);
  EXPECT_EQ(click->won_with, 1u);
  EXPECT_EQ(click->without, 3u);
  EXPECT_EQ(click->won_without, 1u);
  EXPECT_NEAR(click->conversion_with, 0.5, kTol);
  EXPECT_NEAR(click->conversion_without, 1.0 / 3, kTol);
  ASSERT_TRUE(click->lift);
  EXPECT_NEAR(click->lift->value, 1.5, kTol);
  EXPECT_NEAR(click->lift->interval.low, 0.18058784345928491, kTol);
  EXPECT_NEAR(click->lift->interval.high, 12.459310421453045, kTol);
  EXPECT_TRUE(click->small);
  const auto* senior = factor("lead", "senior_buyer");
  ASSERT_TRUE(senior);
  EXPECT_EQ(senior->kind, "fit_rule");
  EXPECT_NEAR(senior->lift->value, 2.0 / 3, kTol);
  EXPECT_NEAR(senior->lift->interval.low, 0.080261263759682178, kTol);
  EXPECT_NEAR(senior->lift->interval.high, 5.5374712984235757, kTol);
  const auto* pricing = factor("lead", "pricing_page_view");
  ASSERT_TRUE(pricing);
  EXPECT_EQ(pricing->with, 3u);
  EXPECT_EQ(pricing->won_with, 2u);
  EXPECT_FALSE(pricing->lift) << "no win without it";
  EXPECT_FALSE(factor("lead", "unsubscribe")) << "never listed: nothing to compare";
  EXPECT_TRUE(factor("account", "pricing_page_view"));

  std::vector<const report::BandRow*> lead_bands;
  for (const auto& band : c.bands) {
    if (band.entity == "lead" && band.routed > 0) lead_bands.push_back(&band);
  }
  ASSERT_EQ(lead_bands.size(), 3u);  // 42, 45, 48 | 66 | 70 (a band is [from, from + 10))
  EXPECT_EQ(lead_bands[0]->from, 40);
  EXPECT_EQ(lead_bands[0]->routed, 3u);
  EXPECT_EQ(lead_bands[0]->won, 1u);
  EXPECT_NEAR(lead_bands[0]->conversion_interval.low, 0.061491944720396208, kTol);
  EXPECT_EQ(lead_bands[1]->from, 60);
  EXPECT_EQ(lead_bands[1]->routed, 1u);
  EXPECT_EQ(lead_bands[1]->won, 0u);
  EXPECT_EQ(lead_bands[2]->from, 70);
  EXPECT_EQ(lead_bands[2]->to, 80);
  EXPECT_EQ(lead_bands[2]->won, 1u);
  EXPECT_NEAR(lead_bands[2]->conversion_interval.low, 0.20654931437723745, kTol);
  EXPECT_TRUE(lead_bands[2]->small);

  // The JSON has the same numbers.
  const auto j = nlohmann::json::parse(report::ToJson(r));
  EXPECT_EQ(j["outcomes"]["unmatched"], 3);
  EXPECT_EQ(j["unmatched_outcomes"][2]["routing_id"], "nope");
  const auto& jm = j["versions"][0]["tiers"][2];
  EXPECT_EQ(jm["tier"], "medium");
  EXPECT_EQ(jm["won"], 1);
  EXPECT_NEAR(jm["conversion_interval"]["high"].get<double>(), 0.79234039919795218, kTol);
  EXPECT_EQ(jm["rejection_reasons"]["no_budget"], 1);
  EXPECT_EQ(jm["small_sample"], true);
  EXPECT_THAT(report::ToText(r), ::testing::HasSubstr("no_budget 1"));
}

// Two groups: without the factor 2 of 10 won, with it 6 of 10. Unpenalised, the fit is
// the maximum likelihood by hand: intercept logit(0.2) = ln 0.25, coefficient ln 6.
TEST(ReportSuggestTest, LogisticRegressionFindsTheMaximumLikelihoodAndL2ShrinksIt) {
  Eigen::MatrixXd x(20, 2);
  Eigen::VectorXd y(20);
  for (int i = 0; i < 20; ++i) {
    x(i, 0) = i < 10 ? 0 : 25;  // points of a fit rule: 25 when it matches
    x(i, 1) = 7;                // a constant column: no information, coefficient 0
    y(i) = (i < 10 ? i < 2 : i < 16) ? 1 : 0;
  }
  auto fit = report::FitLogistic(x, y, 0);
  ASSERT_TRUE(fit.ok()) << fit.status().message();
  EXPECT_NEAR(fit->coefficients(0) * 25, std::log(6.0), kTol);
  EXPECT_NEAR(fit->intercept, std::log(0.25), kTol);
  EXPECT_EQ(fit->coefficients(1), 0);
  auto shrunk = report::FitLogistic(x, y, 5);
  ASSERT_TRUE(shrunk.ok());
  EXPECT_GT(shrunk->coefficients(0), 0);
  EXPECT_LT(shrunk->coefficients(0) * 25, std::log(6.0));
}

// Cross-validation keeps a column that carries the outcome (y follows x, six misses in
// 60) from being shrunk to nothing: the largest weight fits the held-out folds worse.
TEST(ReportSuggestTest, CrossValidationChoosesTheL2WeightByHeldOutLikelihood) {
  const std::vector<double> grid = {0.1, 1, 10, 1000};
  Eigen::MatrixXd x(60, 1);
  Eigen::VectorXd y(60);
  for (int i = 0; i < 60; ++i) {
    x(i, 0) = i % 2 ? 25 : 0;
    y(i) = (i % 2 == 1) != (i % 10 == 3 || i % 10 == 4) ? 1 : 0;
  }
  const double l2 = report::ChooseL2(x, y, grid);
  EXPECT_NE(std::find(grid.begin(), grid.end(), l2), grid.end());
  EXPECT_LT(l2, 1000);
}

// Picking the k highest: ties go to the earlier; recall over every positive.
TEST(ReportSuggestTest, TopKPicksTheHighestScores) {
  const std::vector<double> score = {5, 9, 1, 9, 3};
  const std::vector<bool> positive = {true, false, true, true, false};
  EXPECT_EQ(report::TopK(score, positive, 2), std::make_pair(0.5, 1.0 / 3));   // 9 (no), 9 (yes)
  EXPECT_EQ(report::TopK(score, positive, 3), std::make_pair(2.0 / 3, 2.0 / 3));  // + 5 (yes)
  EXPECT_EQ(report::TopK(score, positive, 9), std::make_pair(3.0 / 5, 1.0));     // all five
  EXPECT_EQ(report::TopK(score, std::vector<bool>(5, false), 2), std::make_pair(0.0, 0.0));
}

// Forty answered lead routings, one an hour. A lead converts when its pricing views
// are at 40 points (two exceptions in training), whatever its seniority. The newest
// 12 are held out: the running model routed two of them to `high` on seniority (score
// 70, not converted); three others, at 40 pricing points, converted. Both models
// pick two: the running model its two `high`, the draft two of the three.
// Lead l8 is routed twice (8 and 9): the win joins its later routing, and the earlier
// one, which sales accepted, counts as converted too.
TEST(ReportSuggestTest, TheHeldOutCheckPicksAsManyAsTheRunningModelRouted) {
  auto model = ExampleModel();
  std::vector<RoutingEvent> routed;
  std::vector<WireOutcome> outcomes;
  using K = WireOutcomeKind;
  for (int i = 0; i < 40; ++i) {
    const bool strong = i % 4 == 0 || i == 9;
    const bool senior = i % 2 == 1;
    const bool high = i == 30 || i == 31;
    const std::string lead = "l" + std::to_string(i == 9 ? 8 : i);
    const int64_t at = kT + i * kH;
    RoutingEvent ev = Lead("r" + std::to_string(i), lead, "low", high ? "high" : "medium", at, 0, {}, 0);
    ev.model_version = model->version;
    ev.factors = {{"pricing_page_view", strong ? 40.0 : 10.0, 2, at}};
    if (senior) ev.factors.push_back({"senior_buyer", 20, 0, 0});
    ev.fit = senior ? 20 : 0;
    ev.intent = strong ? 40 : 10;
    ev.score = high ? 70 : 0.4 * ev.fit + 0.6 * ev.intent;
    routed.push_back(ev);
    const bool won = (strong && i != 12 && i != 8) || i == 2;
    if (i != 9) outcomes.push_back(Outcome(lead, won || i == 8 ? K::kAccepted : K::kRejected, at + kH / 2));
    if (won) outcomes.push_back(Outcome(lead, K::kClosedWon, at + kH / 2 + 1));
  }
  std::ifstream model_file(std::string(LEADSCORE_SOURCE_DIR) + "/examples/model.yaml");
  const std::string yaml((std::istreambuf_iterator<char>(model_file)), std::istreambuf_iterator<char>());
  report::Report r = report::BuildReport(*model, routed, outcomes);
  const Status s = report::AddSuggestion(*model, yaml, routed, outcomes, &r);
  ASSERT_TRUE(s.ok()) << s.message();
  const report::Suggestion& g = *r.suggestion;
  EXPECT_EQ(g.train_events, 28u);
  // 0, 2, 4, 8 (through 9), 9, 16, 20, 24: not 12 (rejected).
  EXPECT_EQ(g.train_won, 8u);
  const report::HeldOutCheck& h = g.held_out;
  EXPECT_EQ(h.events, 12u);
  EXPECT_EQ(h.won, 3u);      // 28, 32, 36
  EXPECT_EQ(h.volume, 2u);   // the two routed to `high`, above `medium`
  EXPECT_DOUBLE_EQ(h.running_precision, 0);
  EXPECT_DOUBLE_EQ(h.running_recall, 0);
  EXPECT_DOUBLE_EQ(h.draft_precision, 1);
  EXPECT_DOUBLE_EQ(h.draft_recall, 2.0 / 3);
  ASSERT_EQ(h.wider.size(), 3u);  // 10, 20, 30 % of 12
  EXPECT_EQ(h.wider[0].volume, 1u);
  EXPECT_EQ(h.wider[1].volume, 2u);
  EXPECT_EQ(h.wider[2].volume, 4u);
  EXPECT_DOUBLE_EQ(h.wider[2].draft_precision, 0.75);  // the three converted and one more
  EXPECT_DOUBLE_EQ(h.wider[2].running_recall, 2.0 / 3);  // the two `high`, then 28 and 32 (score 24, earliest first)
  auto draft = model::LoadModelFromString(g.draft_yaml);
  EXPECT_TRUE(draft.ok()) << draft.ErrorText() << g.draft_yaml;
}

// Nothing after the split reaches the fit: a win of a training lead (l1, routed and
// rejected in the training period) that comes after the split joins l1's routing, which
// was answered already (the split does not move), and leaves the draft as it was.
TEST(ReportSuggestTest, AWinAfterTheSplitDoesNotReachTheFit) {
  auto model = ExampleModel();
  std::vector<RoutingEvent> routed;
  std::vector<WireOutcome> outcomes;
  using K = WireOutcomeKind;
  for (int i = 0; i < 40; ++i) {
    const bool strong = i % 4 == 0;
    const std::string lead = "l" + std::to_string(i);
    const int64_t at = kT + i * kH;
    RoutingEvent ev = Lead("r" + std::to_string(i), lead, "low", i >= 30 && i < 32 ? "high" : "medium", at, 0, {}, 0);
    ev.model_version = model->version;
    ev.factors = {{"pricing_page_view", strong ? 40.0 : 10.0, 2, at}};
    if (i % 2 == 1) ev.factors.push_back({"senior_buyer", 20, 0, 0});
    ev.fit = i % 2 == 1 ? 20 : 0;
    ev.intent = strong ? 40 : 10;
    ev.score = 0.4 * ev.fit + 0.6 * ev.intent;
    routed.push_back(ev);
    outcomes.push_back(Outcome(lead, strong ? K::kAccepted : K::kRejected, at + kH / 2));
    if (strong && i != 12) outcomes.push_back(Outcome(lead, K::kClosedWon, at + kH / 2 + 1));
  }
  std::ifstream model_file(std::string(LEADSCORE_SOURCE_DIR) + "/examples/model.yaml");
  const std::string yaml((std::istreambuf_iterator<char>(model_file)), std::istreambuf_iterator<char>());
  report::Report before = report::BuildReport(*model, routed, outcomes);
  ASSERT_TRUE(report::AddSuggestion(*model, yaml, routed, outcomes, &before).ok());
  outcomes.push_back(Outcome("l1", K::kClosedWon, kT + 39 * kH + kH));  // after the split (r28)
  report::Report after = report::BuildReport(*model, routed, outcomes);
  ASSERT_TRUE(report::AddSuggestion(*model, yaml, routed, outcomes, &after).ok());
  const report::Suggestion& b = *before.suggestion;
  const report::Suggestion& a = *after.suggestion;
  EXPECT_EQ(a.held_out.split_ms, b.held_out.split_ms);
  EXPECT_EQ(a.train_events, b.train_events);
  EXPECT_EQ(a.train_won, b.train_won);
  EXPECT_EQ(a.draft_yaml, b.draft_yaml);
}

// The replayed check: each model's own routings after the split, the leads ranked by the
// best tier they reached, then score. The running model routed l1, l2, l3 after the split
// (l0 before it: not counted), l2 to `high`; the draft routed l1 to `high`, l4 and l5.
// l2 and l4 won after their routing; l5 won before the draft routed it (not a hit); l3's
// win is an account's (no lead: not a hit). Volume 3 (all the running model routed):
// running 1 (l2), draft 1 (l4). Priority volume 1: running l2 (won), draft l1 (not).
TEST(ReportSuggestTest, TheReplayedCheckComparesEachModelsOwnRoutingsAfterTheSplit) {
  auto model = ExampleModel();
  using K = WireOutcomeKind;
  const int64_t split = kT + 10 * kD;
  std::vector<RoutingEvent> running = {
      Lead("a0", "l0", "low", "high", split - kD, 70, {}, 0),
      Lead("a1", "l1", "low", "medium", split + kD, 45, {}, 0),
      Lead("a2", "l2", "low", "medium", split + kD, 41, {}, 0),
      Lead("a3", "l2", "medium", "high", split + 2 * kD, 66, {}, 0),
      Lead("a4", "l3", "low", "medium", split + 3 * kD, 50, {}, 0),
      Lead("a5", "l3", "medium", "low", split + 4 * kD, 30, {}, 0, Direction::kDown)};
  std::vector<RoutingEvent> draft = {Lead("b1", "l1", "low", "high", split + kD, 70, {}, 0),
                                     Lead("b2", "l4", "low", "medium", split + kD, 55, {}, 0),
                                     Lead("b3", "l5", "low", "medium", split + 5 * kD, 60, {}, 0)};
  std::vector<WireOutcome> outcomes = {Outcome("l0", K::kClosedWon, split + kD),
                                       Outcome("l2", K::kClosedWon, split + 9 * kD),
                                       Outcome("l4", K::kClosedWon, split + 9 * kD),
                                       Outcome("l5", K::kClosedWon, split + 2 * kD),
                                       Outcome("", K::kClosedWon, split + 9 * kD)};
  report::Report r;
  report::AddReplayedCheck(*model, *model, running, draft, outcomes, &r);
  EXPECT_FALSE(r.suggestion);  // nothing to add it to
  r.suggestion.emplace();
  r.suggestion->held_out.split_ms = split;
  report::AddReplayedCheck(*model, *model, running, draft, outcomes, &r);
  ASSERT_TRUE(r.suggestion->replayed);
  const report::ReplayedCheck& c = *r.suggestion->replayed;
  EXPECT_EQ(c.running_routed, 3u);
  EXPECT_EQ(c.draft_routed, 3u);
  EXPECT_EQ(c.running_priority, 1u);
  EXPECT_EQ(c.draft_priority, 1u);
  ASSERT_EQ(c.at.size(), 2u);
  EXPECT_EQ(c.at[0].volume_of, "routed");
  EXPECT_EQ(c.at[0].volume, 3u);
  EXPECT_EQ(c.at[0].running_converted, 1u);
  EXPECT_EQ(c.at[0].draft_converted, 1u);
  EXPECT_EQ(c.at[1].volume_of, "priority");
  EXPECT_EQ(c.at[1].volume, 1u);
  EXPECT_EQ(c.at[1].running_converted, 1u);
  EXPECT_EQ(c.at[1].draft_converted, 0u);
}

// The market with outcomes, replayed by `replay`'s function, reported and fitted: the
// draft loads through the model loader with no problem, every signal and rule has points.
TEST(ReportSuggestTest, TheDraftFromTheMarketLoadsAsAModel) {
  std::stringstream market, routed_json, errors;
  ASSERT_TRUE(cli::WriteMarketJsonl({.accounts = 3000, .weeks = 8}, market).ok());
  const std::string model_path = std::string(LEADSCORE_SOURCE_DIR) + "/examples/model.yaml";
  auto loaded = model::LoadModelFromFile(model_path);
  ASSERT_TRUE(loaded.ok());
  std::istringstream in(market.str());
  cli::Replay(loaded.model, in, routed_json, errors, {});
  std::vector<RoutingEvent> routed;
  std::string line;
  while (std::getline(routed_json, line)) routed.push_back(*codec::RoutingEventFromJson(line));
  std::vector<WireOutcome> outcomes;
  std::istringstream lines(market.str());
  while (std::getline(lines, line)) {
    if (line.find("\"outcome\"") == std::string::npos) continue;  // as the command does: events are most
    auto o = codec::DecodeOutcome(line, codec::Format::kJson);
    ASSERT_TRUE(o.ok()) << line;
    if (o->has_value()) outcomes.push_back(**o);
  }
  ASSERT_GT(outcomes.size(), 100u);
  report::Report r = report::BuildReport(*loaded.model, routed, outcomes);
  std::ifstream model_file(model_path);
  const std::string yaml((std::istreambuf_iterator<char>(model_file)), std::istreambuf_iterator<char>());
  const Status s = report::AddSuggestion(*loaded.model, yaml, routed, outcomes, &r);
  if (!s.ok()) {
    // Labels from outcomes before the split only: a market this small has fewer than 5
    // routings before the split whose lead won before it, and the fit is refused (the
    // draft of the lead-state fit is loaded by the test below).
    EXPECT_THAT(std::string(s.message()), ::testing::HasSubstr("too few"));
    EXPECT_FALSE(r.suggestion);
    return;
  }
  const report::Suggestion& g = *r.suggestion;
  EXPECT_EQ(g.points.size(), loaded.model->signals.size() + loaded.model->fit_rules.size());
  EXPECT_GT(g.train_events, g.test_events);
  EXPECT_GT(g.held_out.events, 0u);
  EXPECT_GT(g.held_out.volume, 0u);
  // Both models are compared at each volume, larger and larger shares of the held out.
  ASSERT_EQ(g.held_out.wider.size(), 3u);
  EXPECT_LT(g.held_out.wider[0].volume, g.held_out.wider[2].volume);
  for (const auto& w : g.held_out.wider) {
    EXPECT_GE(w.draft_recall, 0);
    EXPECT_LE(w.draft_recall, 1);
  }
  EXPECT_GE(g.l2, 0.1);  // one of the cross-validation grid's
  EXPECT_LE(g.l2, 100);
  for (const auto& p : g.points) EXPECT_NE(p.suggested, 0) << p.name;
  auto draft = model::LoadModelFromString(g.draft_yaml);
  ASSERT_TRUE(draft.ok()) << draft.ErrorText() << g.draft_yaml;
  EXPECT_EQ(draft.model->version_label, "example-2026-11-suggested");
  for (size_t i = 0; i < g.points.size(); ++i) {
    const auto& p = g.points[i];
    const double points = p.kind == "signal" ? draft.model->signals[*draft.model->SignalIndex(p.name)].points
                                             : draft.model->fit_rules[i - draft.model->signals.size()].points;
    EXPECT_DOUBLE_EQ(points, p.suggested) << p.name;
  }
  for (const auto& t : g.tiers) {
    for (const auto& tier : draft.model->lead.tiers) {
      if (tier.name == t.name) {
        EXPECT_DOUBLE_EQ(*tier.min_score, t.suggested_min_score);
      }
    }
  }
  EXPECT_THAT(report::ToText(r), ::testing::HasSubstr("held out:"));
  EXPECT_THAT(report::ToHtml(r), ::testing::HasSubstr("Suggested changes"));
}

// Tier minimums by volume, worked by hand: before the split the running model routed
// l1 and l2 to medium and l4 to high (nobody to very_high); the probe (a tier every half
// point) saw l1 reach 50, l2 40, l3 30 and l4 70 (l5's 95 came after the split). Each
// tier gets the highest half point at which as many leads reached it or more as the
// running model routed into it or above: high 70 (l4 alone), medium 40 (l1, l2, l4),
// very_high 100 (nobody reached it). The draft drops min_fit and min_intent.
TEST(ReportSuggestTest, TierMinimumsAreSetToTheRunningModelsVolumeBeforeTheSplit) {
  auto model = ExampleModel();
  std::ifstream model_file(std::string(LEADSCORE_SOURCE_DIR) + "/examples/model.yaml");
  const std::string yaml((std::istreambuf_iterator<char>(model_file)), std::istreambuf_iterator<char>());
  const int64_t split = kT + 30 * kD;
  report::Report r;
  r.suggestion.emplace();
  r.suggestion->draft_yaml = yaml;
  r.suggestion->held_out.split_ms = split;
  auto probe_yaml = report::ProbeYaml(*r.suggestion);
  ASSERT_TRUE(probe_yaml.ok()) << probe_yaml.status().message();
  auto probe = model::LoadModelFromString(*probe_yaml);
  ASSERT_TRUE(probe.ok()) << probe.ErrorText();
  ASSERT_EQ(probe.model->lead.tiers.size(), 200u);  // 99.5, 99, ... 0.5, and the bottom
  EXPECT_EQ(probe.model->lead.tiers.back().name, "low");
  EXPECT_DOUBLE_EQ(probe.model->lead.hysteresis, 100);
  auto at = [](double score) { return "probe_" + std::to_string(static_cast<int>(score * 2)); };
  std::vector<RoutingEvent> running = {Lead("a1", "l1", "low", "medium", kT + kD, 45, {}, 0),
                                       Lead("a2", "l2", "low", "medium", kT + 2 * kD, 41, {}, 0),
                                       Lead("a3", "l4", "low", "high", kT + 3 * kD, 70, {}, 0),
                                       Lead("a4", "l3", "low", "very_high", split, 85, {}, 0)};
  std::vector<RoutingEvent> probed = {Lead("p1", "l1", "low", at(20), kT + kD, 20, {}, 0),
                                      Lead("p2", "l1", at(20), at(50), kT + 2 * kD, 50, {}, 0),
                                      Lead("p3", "l2", "low", at(40), kT + 2 * kD, 40, {}, 0),
                                      Lead("p4", "l3", "low", at(30), kT + 3 * kD, 30, {}, 0),
                                      Lead("p5", "l4", "low", at(70), kT + 4 * kD, 70, {}, 0),
                                      Lead("p6", "l5", "low", at(95), split, 95, {}, 0)};
  ASSERT_TRUE(report::SetTiersByVolume(*model, running, *probe.model, probed, &r).ok());
  const report::Suggestion& g = *r.suggestion;
  ASSERT_EQ(g.tiers.size(), 3u);
  EXPECT_EQ(g.tiers[0].name, "very_high");
  EXPECT_DOUBLE_EQ(g.tiers[0].suggested_min_score, 100);
  EXPECT_EQ(g.tiers[0].train_volume, 0u);
  EXPECT_EQ(g.tiers[0].draft_train_volume, 0u);
  EXPECT_DOUBLE_EQ(g.tiers[1].suggested_min_score, 70);
  EXPECT_EQ(g.tiers[1].train_volume, 1u);
  EXPECT_EQ(g.tiers[1].draft_train_volume, 1u);
  EXPECT_DOUBLE_EQ(g.tiers[2].suggested_min_score, 40);
  EXPECT_EQ(g.tiers[2].train_volume, 3u);
  EXPECT_EQ(g.tiers[2].draft_train_volume, 3u);
  auto draft = model::LoadModelFromString(g.draft_yaml);
  ASSERT_TRUE(draft.ok()) << draft.ErrorText() << g.draft_yaml;
  for (size_t t = 0; t < 3; ++t) {
    EXPECT_DOUBLE_EQ(*draft.model->lead.tiers[t].min_score, g.tiers[t].suggested_min_score);
    EXPECT_FALSE(draft.model->lead.tiers[t].min_fit);
    EXPECT_FALSE(draft.model->lead.tiers[t].min_intent);
  }
}

// `generate --output --buying-share`: more accounts ramp up to a purchase, so the same
// market answers with more deals (a richer story to fit and check a draft on).
TEST(ReportSuggestTest, AMarketWithMoreBuyersClosesMoreDeals) {
  auto deals_won = [](double share) {
    std::stringstream market;
    EXPECT_TRUE(cli::WriteMarketJsonl({.accounts = 2000, .weeks = 6, .buying_share = share}, market).ok());
    size_t won = 0;
    std::string line;
    while (std::getline(market, line)) won += line.find("CLOSED_WON") != std::string::npos;
    return won;
  };
  const size_t usual = deals_won(0.01), richer = deals_won(0.05);
  EXPECT_GT(usual, 0u);
  EXPECT_GE(richer, 3 * usual);
}

// `report --suggest` over a replay of a small market: fitted on every lead's state
// looked at weekly before the split (not on the leads the running model chose to
// route), its tiers set by volume, checked by replaying the draft. The market draws
// buying independently of seniority and only buyers start trials: the fit gives a
// trial more points than it had and more than senior_buyer.
TEST(ReportSuggestTest, TheDraftIsFittedOnLeadStatesAndRoutesTheRunningModelsVolume) {
  std::stringstream market, routed_json, errors;
  ASSERT_TRUE(cli::WriteMarketJsonl({.accounts = 2000, .weeks = 12}, market).ok());
  const std::string model_path = std::string(LEADSCORE_SOURCE_DIR) + "/examples/model.yaml";
  auto loaded = model::LoadModelFromFile(model_path);
  ASSERT_TRUE(loaded.ok());
  std::istringstream in(market.str());
  cli::Replay(loaded.model, in, routed_json, errors, {});
  std::vector<RoutingEvent> routed;
  std::string line;
  while (std::getline(routed_json, line)) routed.push_back(*codec::RoutingEventFromJson(line));
  std::vector<WireOutcome> outcomes;
  std::istringstream lines(market.str());
  while (std::getline(lines, line)) {
    if (line.find("\"outcome\"") == std::string::npos) continue;
    auto o = codec::DecodeOutcome(line, codec::Format::kJson);
    if (o.ok() && o->has_value()) outcomes.push_back(**o);
  }
  report::Report r = report::BuildReport(*loaded.model, routed, outcomes);
  std::ifstream model_file(model_path);
  const std::string yaml((std::istreambuf_iterator<char>(model_file)), std::istreambuf_iterator<char>());
  const Status s = cli::SuggestOverReplay(loaded.model, yaml, market.str(), routed, outcomes, &r);
  ASSERT_TRUE(s.ok()) << s.message();
  const report::Suggestion& g = *r.suggestion;
  EXPECT_EQ(g.fitted_on, "lead states");
  EXPECT_GE(g.train_won, 5u);
  EXPECT_GT(g.train_events, 10 * g.train_won);
  std::map<std::string, report::SuggestedPoints> points;
  for (const auto& p : g.points) points[p.name] = p;
  EXPECT_GT(points["product_trial_started"].suggested, points["product_trial_started"].current);
  EXPECT_GT(points["product_trial_started"].suggested, points["senior_buyer"].suggested);
  auto draft = model::LoadModelFromString(g.draft_yaml);
  ASSERT_TRUE(draft.ok()) << draft.ErrorText() << g.draft_yaml;
  // A market this small closes a handful of deals before the split, far from the ten per
  // column of each end that fitting what wins needs: the draft keeps the fit axis whole
  // (rule points and min_fit) and moves min_intent to the same share of lead-weeks.
  EXPECT_TRUE(g.fit_kept);
  EXPECT_LT(std::min(g.deals_won, g.deals - g.deals_won), 10 * points.size());
  for (const char* rule : {"target_industry", "mid_market", "senior_buyer", "generic_mail"}) {
    EXPECT_EQ(points[rule].suggested, points[rule].current) << rule;
  }
  EXPECT_GT(g.headroom_scale, 0);
  EXPECT_LE(g.headroom_scale, 1);
  ASSERT_EQ(g.tiers.size(), 3u);  // very_high, high, medium: set by volume
  ASSERT_EQ(g.min_intents.size(), 2u);  // very_high's and high's
  for (size_t t = 0; t < g.tiers.size(); ++t) {
    EXPECT_DOUBLE_EQ(*draft.model->lead.tiers[t].min_score, g.tiers[t].suggested_min_score);
    EXPECT_EQ(draft.model->lead.tiers[t].min_fit, loaded.model->lead.tiers[t].min_fit);
    if (t < 2) {
      ASSERT_TRUE(draft.model->lead.tiers[t].min_intent);
      EXPECT_DOUBLE_EQ(*draft.model->lead.tiers[t].min_intent, g.min_intents[t].second);
    }
  }
  // The lowest routed tier routes about the running model's volume before the split
  // (a market this small clumps: a lead's highest score is often one event's points on
  // one of few fit sums, so a half-point level can hold a score of leads).
  const report::SuggestedTier& medium = g.tiers[2];
  ASSERT_GT(medium.train_volume, 20u);
  EXPECT_NEAR(static_cast<double>(medium.draft_train_volume), static_cast<double>(medium.train_volume),
              0.3 * static_cast<double>(medium.train_volume));
  ASSERT_TRUE(g.replayed);
  EXPECT_GT(g.replayed->draft_routed, 0u);
  ASSERT_EQ(g.replayed->at.size(), 2u);
  EXPECT_THAT(report::ToText(r), ::testing::HasSubstr("lead states looked at weekly"));
}

// With enough closed deals for stage (B) the fit axis is fitted, and the gated tiers
// (very_high, high) keep min_fit and min_intent rather than drop them: each moves to the
// draft's value that as many training looks reach as reached the running model's. Lead
// states made by hand: 2000 leads looked at weekly four times, their fit rules drawn at
// random, a third of them buyers (trials, pricing views) who mostly get an opportunity;
// a deal is won mostly when the account is target-industry and mid-market, so more than
// 100 deals of each end close before the split (ten per column). Then the probe counts a
// lead into a gated tier only at a level where it met the gates: a lead at 90 whose fit
// is below the draft's min_fit does not set `high`'s minimum, one at 70 that met both does.
TEST(ReportSuggestTest, WithStageBTheGatedTiersKeepMinFitAndMinIntentMovedByShare) {
  auto model = ExampleModel();
  std::ifstream model_file(std::string(LEADSCORE_SOURCE_DIR) + "/examples/model.yaml");
  const std::string yaml((std::istreambuf_iterator<char>(model_file)), std::istreambuf_iterator<char>());
  const std::vector<std::string> columns = report::SuggestColumns(*model);
  ASSERT_EQ(columns.size(), 10u);  // 6 signals, then target_industry, mid_market, senior_buyer, generic_mail
  using K = WireOutcomeKind;
  std::mt19937 rng(7);
  auto chance = [&](double p) { return static_cast<double>(rng() % 10000) < p * 10000; };
  report::LeadSamples samples;
  std::vector<WireOutcome> outcomes;
  std::vector<std::array<bool, 4>> rules;  // per lead: which fit rules match
  for (int i = 0; i < 2000; ++i) {
    const std::string lead = "s" + std::to_string(i);
    samples.leads.push_back(lead);
    const std::array<bool, 4> rule = {chance(0.5), chance(0.5), chance(0.4), chance(0.15)};
    rules.push_back(rule);
    const bool buyer = chance(0.33);
    for (int week = 1; week <= 4; ++week) {
      report::LeadSamples::Row row;
      row.lead = static_cast<uint32_t>(i);
      row.at_ms = kT + week * 7 * kD;
      row.points.assign(columns.size(), 0.0F);
      row.points[0] = static_cast<float>(buyer ? std::min(45, 15 * week) : (chance(0.3) ? 15 : 0));
      row.points[1] = chance(buyer ? 0.4 : 0.1) ? 20.0F : 0.0F;
      row.points[2] = buyer && week >= 2 ? 25.0F : 0.0F;
      row.points[3] = chance(0.2) ? 8.0F : 0.0F;
      row.points[4] = chance(0.5) ? 3.0F : 0.0F;
      row.points[5] = chance(buyer ? 0.01 : 0.05) ? -30.0F : 0.0F;
      const float fit_points[4] = {25, 25, 20, -30};
      for (size_t r = 0; r < 4; ++r) row.points[6 + r] = rule[r] ? fit_points[r] : 0.0F;
      samples.rows.push_back(std::move(row));
    }
    if (chance(buyer ? 0.8 : 0.05)) {
      outcomes.push_back(Outcome(lead, K::kOpportunityCreated, kT + 30 * kD));
      const bool won = chance(rule[0] && rule[1] ? 0.75 : 0.25);
      outcomes.push_back(Outcome(lead, won ? K::kClosedWon : K::kClosedLost, kT + 60 * kD));
    }
  }
  // 20 answered routings long after the looks: the split falls at the 15th (q14).
  std::vector<RoutingEvent> routed;
  for (int i = 0; i < 20; ++i) {
    const std::string lead = "q" + std::to_string(i);
    const int64_t at = kT + 100 * kD + i * kH;
    RoutingEvent ev = Lead("rq" + std::to_string(i), lead, "low", i == 3 ? "high" : "medium", at, 50, {}, 0);
    ev.model_version = model->version;
    routed.push_back(ev);
    outcomes.push_back(Outcome(lead, i % 3 == 0 ? K::kAccepted : K::kRejected, at + kH / 2));
  }
  report::Report r = report::BuildReport(*model, routed, outcomes);
  const Status s = report::AddSuggestion(*model, yaml, routed, outcomes, &r, &samples);
  ASSERT_TRUE(s.ok()) << s.message();
  const report::Suggestion& g = *r.suggestion;
  ASSERT_TRUE(g.deals_used) << g.deals << " deals, " << g.deals_won << " won";
  EXPECT_FALSE(g.fit_kept);
  EXPECT_TRUE(g.gates_refit);
  ASSERT_EQ(g.min_fits.size(), 2u);
  ASSERT_EQ(g.min_intents.size(), 2u);
  EXPECT_EQ(g.min_fits[0].first, "very_high");
  EXPECT_EQ(g.min_fits[1].first, "high");
  // The share rule, on the fit axis: the draft's min_fit admits at least as many training
  // looks as the running model's did, and the next tenth up admits fewer.
  std::map<std::string, double> draft_points;
  for (const auto& p : g.points) draft_points[p.name] = p.suggested;
  const char* rule_names[4] = {"target_industry", "mid_market", "senior_buyer", "generic_mail"};
  auto fit_of = [&](const std::array<bool, 4>& rule, bool draft) {
    double fit = 0;
    for (size_t k = 0; k < 4; ++k) {
      if (rule[k]) fit += draft ? draft_points[rule_names[k]] : model->fit_rules[k].points;
    }
    return std::clamp(fit, 0.0, 100.0);
  };
  for (size_t t = 0; t < 2; ++t) {
    const double running_min = *model->lead.tiers[t].min_fit, draft_min = g.min_fits[t].second;
    EXPECT_GT(draft_min, 0) << g.min_fits[t].first;
    EXPECT_LT(draft_min, running_min) << "the fitted fit points are on another scale";
    size_t running_in = 0, draft_in = 0, draft_in_above = 0;
    for (const auto& row : samples.rows) {  // every look is before the split
      running_in += fit_of(rules[row.lead], false) >= running_min;
      draft_in += fit_of(rules[row.lead], true) >= draft_min;
      draft_in_above += fit_of(rules[row.lead], true) >= draft_min + 0.1;
    }
    ASSERT_GT(running_in, 0u);
    EXPECT_GE(draft_in, running_in) << g.min_fits[t].first;
    EXPECT_LT(draft_in_above, running_in) << g.min_fits[t].first;
  }
  auto draft = model::LoadModelFromString(g.draft_yaml);
  ASSERT_TRUE(draft.ok()) << draft.ErrorText() << g.draft_yaml;
  for (size_t t = 0; t < 2; ++t) {
    ASSERT_TRUE(draft.model->lead.tiers[t].min_fit);
    ASSERT_TRUE(draft.model->lead.tiers[t].min_intent);
    EXPECT_DOUBLE_EQ(*draft.model->lead.tiers[t].min_fit, g.min_fits[t].second);
    EXPECT_DOUBLE_EQ(*draft.model->lead.tiers[t].min_intent, g.min_intents[t].second);
  }

  // Tiers by volume: before the split the running model routed q3 to high, nobody to
  // very_high. The probe saw pA reach 90 with no fit and pB reach 70 with fit and intent
  // at 100: high goes to 70 (pB); with the gates dropped it would go to 90 (pA).
  auto probe_yaml = report::ProbeYaml(g);
  ASSERT_TRUE(probe_yaml.ok()) << probe_yaml.status().message();
  auto probe = model::LoadModelFromString(*probe_yaml);
  ASSERT_TRUE(probe.ok()) << probe.ErrorText();
  auto level = [](double score) { return "probe_" + std::to_string(static_cast<int>(score * 2)); };
  RoutingEvent pa = Lead("pa", "pA", "low", level(90), kT + 100 * kD, 90, {}, 0);
  pa.fit = 0;
  pa.intent = 100;
  RoutingEvent pb = Lead("pb", "pB", "low", level(70), kT + 100 * kD, 70, {}, 0);
  pb.fit = 100;
  pb.intent = 100;
  ASSERT_TRUE(report::SetTiersByVolume(*model, routed, *probe.model, {pa, pb}, &r).ok());
  const report::Suggestion& set = *r.suggestion;
  ASSERT_EQ(set.tiers.size(), 3u);
  EXPECT_DOUBLE_EQ(set.tiers[0].suggested_min_score, 100);  // nobody: the top level
  EXPECT_EQ(set.tiers[1].train_volume, 1u);
  EXPECT_DOUBLE_EQ(set.tiers[1].suggested_min_score, 70);
  EXPECT_EQ(set.tiers[1].draft_train_volume, 1u);
  auto final_draft = model::LoadModelFromString(set.draft_yaml);
  ASSERT_TRUE(final_draft.ok()) << final_draft.ErrorText() << set.draft_yaml;
  for (size_t t = 0; t < 2; ++t) {
    ASSERT_TRUE(final_draft.model->lead.tiers[t].min_fit) << "the gate of " << set.tiers[t].name << " was dropped";
    ASSERT_TRUE(final_draft.model->lead.tiers[t].min_intent) << set.tiers[t].name;
    EXPECT_DOUBLE_EQ(*final_draft.model->lead.tiers[t].min_fit, g.min_fits[t].second);
    EXPECT_DOUBLE_EQ(*final_draft.model->lead.tiers[t].min_intent, g.min_intents[t].second);
  }
}

}  // namespace
}  // namespace leadscore::testing
