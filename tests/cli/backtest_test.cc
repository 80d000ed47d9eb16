// `leadscore backtest` on a small hand-made history: one point change (webinar_attended
// 20 -> 40) moves ana from `medium` to `high`; volumes, the final-tier matrix and
// conversion are known exactly. The draft against itself is all diagonal.
#include "cli/backtest.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

namespace leadscore::cli {
namespace {

using ::testing::HasSubstr;

const std::string kDir = LEADSCORE_SOURCE_DIR;
constexpr int64_t kT = 1791190800000, kMin = 60000;

std::string Example() {
  std::ifstream in(kDir + "/examples/model.yaml");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The example without feedback.suppress: the tests below compare the tiers points reach,
// and the won outcome at the end would put ana and acme in `suppressed` under both
// models (TheWonOutcomeSuppressesUnderBothModels).
std::string ExampleWithoutSuppress() {
  std::string text = Example();
  const auto at = text.find("  suppress:");
  EXPECT_NE(at, std::string::npos);
  if (at != std::string::npos) text.erase(at, text.find('\n', at) + 1 - at);
  return text;
}

std::shared_ptr<const model::Model> Load(const std::string& yaml) {
  auto r = model::LoadModelFromString(yaml);
  EXPECT_TRUE(r.ok()) << r.ErrorText();
  return r.model;
}

// acme (software, 800, NL: account fit 50); ana, a VP economic buyer (lead fit 70), reads
// pricing twice and attends a webinar; bob never does anything. Then sales win ana.
// Baseline: ana intent 30 + 20 = 50, score ~58: medium. Draft (webinar 40): intent 70,
// score ~70 with fit 70 and intent >= 40: high. acme reaches B under both.
std::string History() {
  auto t = [](int64_t minutes) { return "\"" + std::to_string(kT + minutes * kMin) + "\""; };
  return R"({"account":{"account_id":"acme","industry":"software","employee_count":800,"country":"NL","updated_at_ms":)" + t(0) + "}}\n" +
         R"({"lead":{"lead_id":"ana","account_id":"acme","role":"economic_buyer","seniority":"vp","updated_at_ms":)" + t(0) + "}}\n" +
         R"({"lead":{"lead_id":"bob","account_id":"acme","role":"end_user","seniority":"analyst","updated_at_ms":)" + t(0) + "}}\n" +
         R"({"event":{"event_id":"e1","lead_id":"ana","account_id":"acme","type":"pricing_page_view","occurred_at_ms":)" + t(10) + "}}\n" +
         R"({"event":{"event_id":"e2","lead_id":"ana","account_id":"acme","type":"pricing_page_view","occurred_at_ms":)" + t(20) + "}}\n" +
         R"({"event":{"event_id":"e3","lead_id":"ana","account_id":"acme","type":"webinar_attended","occurred_at_ms":)" + t(30) + "}}\n" +
         R"({"outcome":{"lead_id":"ana","account_id":"acme","kind":"CLOSED_WON","occurred_at_ms":)" + t(40) + "}}\n";
}

BacktestResult RunBoth(const std::string& baseline, const std::string& draft) {
  std::ostringstream errors;
  auto r = Backtest(Load(baseline), Load(draft), History(), errors, {.until_ms = kT + 60 * kMin});
  EXPECT_EQ(r.bad_lines, 0u) << errors.str();
  return r;
}

using Volume = std::map<std::string, std::map<std::string, std::map<std::string, uint64_t>>>;

TEST(BacktestTest, OnePointChangeMovesAKnownLeadUpATier) {
  const std::string live = ExampleWithoutSuppress();
  std::string draft = live;
  const std::string from = "webinar_attended:      { points: 20";
  ASSERT_NE(draft.find(from), std::string::npos);
  draft.replace(draft.find(from), from.size(), "webinar_attended:      { points: 40");
  const BacktestResult r = RunBoth(live, draft);

  EXPECT_EQ(r.baseline.volume, (Volume{{"lead", {{"medium", {{"up", 1}}}}}, {"account", {{"B", {{"up", 1}}}}}}));
  EXPECT_EQ(r.draft.volume,
            (Volume{{"lead", {{"medium", {{"up", 1}}}, {"high", {{"up", 1}}}}}, {"account", {{"B", {{"up", 1}}}}}}));
  // Final tiers: ana medium -> high, bob low in both; acme B in both.
  EXPECT_EQ(r.matrix, (Volume{{"lead", {{"medium", {{"high", 1}}}, {"low", {{"low", 1}}}}},
                              {"account", {{"B", {{"B", 1}}}}}}));
  EXPECT_EQ(r.changed.at("lead"), 1u);
  EXPECT_EQ(r.changed.at("account"), 0u);
  // The won outcome answers ana's latest UP routing: into medium (baseline), high (draft).
  EXPECT_EQ(r.outcomes, 1u);
  EXPECT_EQ(r.baseline.conversion.at("lead").at("medium").won, 1u);
  EXPECT_EQ(r.baseline.conversion.at("lead").at("medium").routed, 1u);
  EXPECT_EQ(r.draft.conversion.at("lead").at("high").won, 1u);
  EXPECT_EQ(r.draft.conversion.at("lead").at("medium").won, 0u);
  EXPECT_EQ(r.draft.conversion.at("lead").at("medium").routed, 1u);
  EXPECT_EQ(r.draft.conversion.at("account").at("B").won, 0u);

  const std::string text = BacktestText(r);
  EXPECT_THAT(text, HasSubstr("leads: final tier, baseline (rows) x draft (columns); 1 changed"));
  const auto j = nlohmann::json::parse(BacktestJson(r));
  EXPECT_EQ(j["final_tier_matrix"]["lead"]["medium"]["high"], 1);
  EXPECT_EQ(j["draft"]["conversion"]["lead"]["high"]["rate"], 1.0);
  EXPECT_TRUE(j["draft"]["conversion"]["lead"]["medium"]["rate"] == 0.0);
  const std::string html = BacktestHtml(r);
  EXPECT_THAT(html, HasSubstr("<table>"));
  EXPECT_EQ(html.find("http"), std::string::npos) << "a self-contained page: no link, no script";
}

TEST(BacktestTest, TheDraftAgainstItselfIsAllDiagonal) {
  const BacktestResult r = RunBoth(ExampleWithoutSuppress(), ExampleWithoutSuppress());
  EXPECT_EQ(r.baseline.volume, r.draft.volume);
  for (const auto& [kind, rows] : r.matrix) {
    for (const auto& [from, cols] : rows) {
      for (const auto& [to, n] : cols) EXPECT_EQ(from, to) << kind << " " << n;
    }
    EXPECT_EQ(r.changed.at(kind), 0u) << kind;
  }
  EXPECT_EQ(r.matrix.at("lead").at("medium").at("medium"), 1u);
  EXPECT_EQ(r.matrix.at("lead").at("low").at("low"), 1u);
}

TEST(BacktestTest, TheWonOutcomeSuppressesUnderBothModels) {
  const BacktestResult r = RunBoth(Example(), Example());
  EXPECT_EQ(r.baseline.volume, (Volume{{"lead", {{"medium", {{"up", 1}}}, {"suppressed", {{"down", 1}}}}},
                                       {"account", {{"suppressed", {{"down", 1}}}}}}));
  EXPECT_EQ(r.matrix.at("lead").at("suppressed").at("suppressed"), 1u);
  EXPECT_EQ(r.matrix.at("account").at("suppressed").at("suppressed"), 1u);
  EXPECT_EQ(r.changed.at("lead"), 0u);
  EXPECT_EQ(r.baseline.conversion.at("lead").at("medium").won, 1u) << "it answers ana's latest UP routing";
}

}  // namespace
}  // namespace leadscore::cli
