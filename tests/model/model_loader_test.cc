#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "model/model.h"

namespace leadscore::model {
namespace {

using ::testing::HasSubstr;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

const std::string kExample = std::string(LEADSCORE_SOURCE_DIR) + "/examples/model.yaml";

// Replaces the first occurrence of `from` in the example model.
std::string ExampleWith(const std::string& from, const std::string& to) {
  std::string text = ReadFile(kExample);
  auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

int LineOf(const std::string& text, const std::string& needle) {
  auto at = text.find(needle);
  return at == std::string::npos ? -1 : 1 + static_cast<int>(std::count(text.begin(), text.begin() + at, '\n'));
}

// Loads `text`, expects it refused with a problem on the line of `needle` that says `says`.
void ExpectProblem(const std::string& text, const std::string& needle, const std::string& says) {
  auto r = LoadModelFromString(text);
  ASSERT_FALSE(r.ok()) << "accepted a bad model";
  const int line = LineOf(text, needle);
  for (const auto& p : r.problems) {
    if (p.line == line && p.message.find(says) != std::string::npos) return;
  }
  ADD_FAILURE() << "no problem on line " << line << " saying '" << says << "'; got:\n" << r.ErrorText();
}

TEST(ModelLoaderTest, LoadsTheExampleModel) {
  auto r = LoadModelFromFile(kExample);
  ASSERT_TRUE(r.ok()) << r.ErrorText();
  const Model& m = *r.model;
  EXPECT_EQ(m.signals.size(), 6u);
  EXPECT_EQ(m.fit_rules.size(), 4u);
  EXPECT_EQ(m.lead.tiers.size(), 4u);
  EXPECT_EQ(m.account.tiers.size(), 3u);
  EXPECT_EQ(m.committee.roles.size(), 5u);
  EXPECT_EQ(m.committee.contact_window_ms, 30 * kMsPerDay);
  const Signal& pricing = m.signals[*m.SignalIndex("pricing_page_view")];
  EXPECT_EQ(pricing.half_life.ms, 7 * kMsPerDay);
  EXPECT_EQ(pricing.cap, 45);
  EXPECT_EQ(pricing.account_cap, 90);
  const Signal& whitepaper = m.signals[*m.SignalIndex("whitepaper_download")];
  EXPECT_EQ(whitepaper.account_cap, 32) << "default account cap is twice the lead cap";
  EXPECT_EQ(m.signals[*m.SignalIndex("unsubscribe")].cap, kNoCap);
  EXPECT_EQ(whitepaper.multipliers.size(), 2u) << "the DACH multiplier and the all-signals one";
  EXPECT_EQ(pricing.multipliers.size(), 1u);
  EXPECT_TRUE(m.fit_rules[0].account_only);
  EXPECT_FALSE(m.fit_rules[2].account_only);
  EXPECT_TRUE(m.disqualify[0].account_only);
  EXPECT_EQ(m.lead.tiers[2].sla->business_days, 5);
  EXPECT_EQ(m.lead.tiers[0].sla->ms, 24 * kMsPerHour);
  EXPECT_EQ(m.GradeOf(85), "A");
  EXPECT_EQ(m.GradeOf(60), "B");
  EXPECT_EQ(m.GradeOf(19.9), "F");
  EXPECT_THAT(m.version, ::testing::StartsWith("example-2026-11+"));
  EXPECT_EQ(m.version.size(), std::string("example-2026-11+").size() + 12);

  ASSERT_EQ(m.filters.size(), 2u);
  EXPECT_EQ(m.filters[0].name, "known_bots");
  EXPECT_FALSE(m.filters[0].burst);
  ASSERT_EQ(m.filters[0].when.all.size(), 1u);
  EXPECT_EQ(m.filters[0].when.all[0].source, Source::kEvent);
  EXPECT_EQ(m.burst_filter, 1);
  EXPECT_EQ(m.filters[1].name, "mail_scanner");
  EXPECT_EQ(m.filters[1].burst_events, 4);
  EXPECT_EQ(m.filters[1].burst_within_ms, 2000);
  EXPECT_EQ(m.feedback.suppress_ms[3], 90 * kMsPerDay) << "OPPORTUNITY_CREATED";
  EXPECT_EQ(m.feedback.suppress_ms[4], 365 * kMsPerDay) << "CLOSED_WON";
  EXPECT_EQ(m.feedback.suppress_ms[2], 0) << "REJECTED does not suppress";
  ASSERT_EQ(m.feedback.signals.size(), 1u);
  EXPECT_EQ(m.feedback.signals[0].first, 2) << "REJECTED";
  EXPECT_EQ(m.feedback.signals[0].second.name, "REJECTED");
  EXPECT_EQ(m.feedback.signals[0].second.points, -15);
  EXPECT_EQ(m.feedback.signals[0].second.half_life.ms, 30 * kMsPerDay);
}

TEST(ModelLoaderTest, TheExampleReachesEveryTier) {
  auto r = LoadModelFromFile(kExample);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r.warnings.empty()) << r.warnings[0].message;
}

TEST(ModelLoaderTest, WarnsAboutATierNoOneCanReach) {
  auto r = LoadModelFromString(ExampleWith("{ name: A, min_score: 65,", "{ name: A, min_score: 80,"));
  ASSERT_TRUE(r.ok()) << r.ErrorText();
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_THAT(r.warnings[0].message, HasSubstr("account tier 'A' cannot be reached"));
  EXPECT_THAT(r.warnings[0].message, HasSubstr("best possible score 75"));
}

TEST(ModelLoaderTest, FiltersAndFeedbackAreOptional) {
  std::string text = ReadFile(kExample);
  const auto from = text.find("\nfilters:"), to = text.find("\nlead:");
  text.erase(from, to - from);
  text.erase(text.find("\nfeedback:"));
  auto r = LoadModelFromString(text);
  ASSERT_TRUE(r.ok()) << r.ErrorText();
  EXPECT_TRUE(r.model->filters.empty());
  EXPECT_EQ(r.model->burst_filter, -1);
  EXPECT_TRUE(r.model->feedback.signals.empty());
}

TEST(ModelVersionTest, IgnoresCommentsLayoutAndKeyOrder) {
  const std::string text = ReadFile(kExample);
  std::string reformatted = "# a new comment\n" + ExampleWith("grades: { A: 80, B: 60, C: 40, D: 20 }",
                                                              "grades:\n    A: 80\n    B: 60.0\n    C: 40\n    D: 20");
  auto a = LoadModelFromString(text), b = LoadModelFromString(reformatted);
  ASSERT_TRUE(a.ok() && b.ok()) << b.ErrorText();
  EXPECT_EQ(a.model->version, b.model->version);
}

TEST(ModelVersionTest, ChangesWithTheContent) {
  auto a = LoadModelFromFile(kExample);
  auto b = LoadModelFromString(ExampleWith("points: 15, half_life: 7d", "points: 16, half_life: 7d"));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a.model->version, b.model->version);
}

// Every kind of semantic field, changed once: the version must change. `base` (when
// set) is applied to both sides first, for a field the example model does not have.
struct VersionChange {
  const char* what;
  std::string from, to;
  std::string base_from = {}, base_to = {};
};

std::string Apply(const std::string& text, const std::string& from, const std::string& to) {
  std::string out = text;
  auto at = out.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) out.replace(at, from.size(), to);
  return out;
}

TEST(ModelVersionTest, ChangesWithEverySemanticField) {
  const std::string example = ReadFile(kExample);
  const std::vector<VersionChange> changes = {
      {"int: fit rule points", "points: 25 }", "points: 26 }"},
      {"negative int: fit rule points", "points: -30 }", "points: -31 }"},
      {"int: signal points", "points: 20, half_life: 21d", "points: 21, half_life: 21d"},
      {"int: signal cap", "cap: 40 }", "cap: 39 }"},
      {"int: lead min_score", "min_score: 65, min_fit: 60", "min_score: 66, min_fit: 60"},
      {"int: lead min_fit", "min_fit: 70", "min_fit: 71"},
      {"int: lead min_intent", "min_intent: 40", "min_intent: 41"},
      {"int: account min_score", "{ name: B, min_score: 45", "{ name: B, min_score: 46"},
      {"int: min_engaged_contacts", "min_engaged_contacts: 3", "min_engaged_contacts: 2"},
      {"int: min_roles", "min_roles: 2", "min_roles: 3"},
      {"int: lead hysteresis", "hysteresis: 5           #", "hysteresis: 6           #"},
      {"int: grade minimum", "A: 80,", "A: 85,"},
      {"int: committee role weight", "economic_buyer: 3", "economic_buyer: 4"},
      {"int: role_min_intent", "role_min_intent: 20", "role_min_intent: 25"},
      {"int: account intent cap", "pricing_page_view: 90", "pricing_page_view: 80"},
      {"int: burst events", "events: 4", "events: 5"},
      {"int: feedback signal points", "points: -15", "points: -10"},
      {"int: between bound", "between: [200, 5000]", "between: [200, 6000]"},
      {"double: score weights", "fit_weight: 0.4, intent_weight: 0.6", "fit_weight: 0.45, intent_weight: 0.55"},
      {"double: multiplier factor", "factor: 0.5", "factor: 0.55"},
      {"duration: half_life", "half_life: 21d", "half_life: 22d"},
      {"duration: contact_window", "contact_window: 30d", "contact_window: 14d"},
      {"duration: burst within", "within: 2s", "within: 3s"},
      {"duration: sla", "sla: 48h", "sla: 72h"},
      {"duration: suppress", "CLOSED_WON: 365d", "CLOSED_WON: 180d"},
      {"duration: feedback signal half_life", "half_life: 30d }", "half_life: 31d }"},
      {"int: feedback signal cap", "cap: 30 } }", "cap: 29 } }",
       "REJECTED: { points: -15, half_life: 30d }", "REJECTED: { points: -15, half_life: 30d, cap: 30 }"},
      {"map: one more suppressed kind", "CLOSED_WON: 365d }", "CLOSED_WON: 365d, ACCEPTED: 7d }"},
      {"map: a suppress kind changed", "OPPORTUNITY_CREATED: 90d", "CLOSED_LOST: 90d"},
      {"map: one more feedback signal", "half_life: 30d } }",
       "half_life: 30d }, CLOSED_LOST: { points: -5, half_life: 60d } }"},
      {"section: feedback removed (the last in the file)", example.substr(example.find("\nfeedback:")), "\n"},
      {"string: action", "Active follow-up", "Active follow up"},
      {"string: feedback", "feedback: required", "feedback: optional"},
      {"string: condition value", "eq: DACH", "eq: CH"},
      {"string: rule name", "name: mid_market", "name: midmarket"},
      {"boolean: exists", "exists: true", "exists: false",
       "bot: { eq: \"true\" }", "bot: { exists: true }"},
      {"list: one more value", "in: [software, fintech]", "in: [software, fintech, saas]"},
      {"list: one value less", "not_in: [NL, DE, GB, US]", "not_in: [NL, DE, GB]"},
      {"list: multiplier signals", "signals: [whitepaper_download]", "signals: [whitepaper_download, email_click]"},
      {"optional field removed", "sla: 5bd, ", ""},
      {"order that matters: signals (their slots in the state)",
       "    pricing_page_view:     { points: 15, half_life: 7d,  cap: 45 }\n"
       "    webinar_attended:      { points: 20, half_life: 21d, cap: 40 }\n",
       "    webinar_attended:      { points: 20, half_life: 21d, cap: 40 }\n"
       "    pricing_page_view:     { points: 15, half_life: 7d,  cap: 45 }\n"},
      {"order that matters: committee roles (their indices in the state)", "economic_buyer: 3, champion: 2",
       "champion: 2, economic_buyer: 3"},
  };
  for (const auto& c : changes) {
    std::string base = c.base_from.empty() ? example : Apply(example, c.base_from, c.base_to);
    auto a = LoadModelFromString(base), b = LoadModelFromString(Apply(base, c.from, c.to));
    ASSERT_TRUE(a.ok()) << c.what << ": " << a.ErrorText();
    ASSERT_TRUE(b.ok()) << c.what << ": " << b.ErrorText();
    EXPECT_NE(a.model->version, b.model->version) << c.what;
  }
}

TEST(ModelVersionTest, ChangesWithTheOrderOfAList) {
  // The filters swapped: the same two, in another order (the first matching counts).
  const std::string bots = "  - { name: known_bots, when: { event.attributes.bot: { eq: \"true\" } } }";
  const std::string scanner = "  - { name: mail_scanner, burst: { events: 4, within: 2s } }";
  const std::string example = ReadFile(kExample);
  const std::string swapped = Apply(Apply(Apply(example, bots, "@@"), scanner, bots), "@@", scanner);
  auto a = LoadModelFromString(example), b = LoadModelFromString(swapped);
  ASSERT_TRUE(a.ok() && b.ok()) << b.ErrorText();
  EXPECT_NE(a.model->version, b.model->version);
}

TEST(ModelVersionTest, FormattingDoesNotChangeIt) {
  const std::string example = ReadFile(kExample);
  const std::vector<VersionChange> same = {
      {"comments", "fit:                      # who they are", "# one more line\nfit:  # another comment"},
      {"flow map to block map", "grades: { A: 80, B: 60, C: 40, D: 20 }",
       "grades:\n    A: 80\n    B: 60\n    C: 40\n    D: 20"},
      {"key order inside a signal", "{ points: 15, half_life: 7d,  cap: 45 }", "{ cap: 45, half_life: 7d, points: 15 }"},
      {"key order of a tier", "{ name: B, min_score: 45, action: \"Marketing nurture\" }",
       "{ action: \"Marketing nurture\", min_score: 45, name: B }"},
      {"a number spelled otherwise", "min_score: 65, min_fit: 60", "min_score: 65.0, min_fit: 6e1"},
      {"quotes", "in: [software, fintech]", "in: [\"software\", 'fintech']"},
      {"blank lines and spaces", "lead:\n  score:", "\n\nlead:\n\n  score:   "},
      {"key order of a top-level section", "  hysteresis: 5           #", "  hysteresis: 5\n  #"},
  };
  auto a = LoadModelFromString(example);
  ASSERT_TRUE(a.ok());
  for (const auto& c : same) {
    auto b = LoadModelFromString(Apply(example, c.from, c.to));
    ASSERT_TRUE(b.ok()) << c.what << ": " << b.ErrorText();
    EXPECT_EQ(a.model->version, b.model->version) << c.what;
  }
}

// MIGRATION fixture: the version leadscore 0.1.0 printed for examples/model.yaml
// (`leadscore validate`, before the version hashed every field). State on disk carries
// it; the same model file must still be recognised by it after an upgrade.
constexpr const char* kExampleVersionOf010 = "example-2026-11+ca6ec43a6808";

TEST(ModelVersionTest, KeepsTheVersionThePreviousReleaseComputedForMigration) {
  auto r = LoadModelFromFile(kExample);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.model->legacy_version, kExampleVersionOf010);
  EXPECT_NE(r.model->version, kExampleVersionOf010) << "the new version is a new hash";
}

TEST(ModelVersionTest, IsJustTheHashWithoutALabel) {
  auto r = LoadModelFromString(ExampleWith("version: \"example-2026-11\"\n", ""));
  ASSERT_TRUE(r.ok()) << r.ErrorText();
  EXPECT_EQ(r.model->version.size(), 12u);
}

TEST(ModelValidationTest, UnknownKey) {
  auto text = ExampleWith("\nlead:\n", "\nlead:\n  histeresis: 5\n");
  ExpectProblem(text, "histeresis", "unknown key 'histeresis'");
}

TEST(ModelValidationTest, WrongType) {
  auto text = ExampleWith("points: 25, half_life: 30d", "points: lots, half_life: 30d");
  ExpectProblem(text, "points: lots", "must be a number, not 'lots'");
}

TEST(ModelValidationTest, NegativeHalfLife) {
  auto text = ExampleWith("half_life: 21d", "half_life: -21d");
  ExpectProblem(text, "half_life: -21d", "half_life must be positive");
}

TEST(ModelValidationTest, HalfLifeWithoutUnit) {
  auto text = ExampleWith("half_life: 21d", "half_life: 21");
  ExpectProblem(text, "half_life: 21,", "'21' has no known unit");
}

TEST(ModelValidationTest, CapBelowZero) {
  auto text = ExampleWith("cap: 9", "cap: -9");
  ExpectProblem(text, "cap: -9", "cap must not be below zero");
}

TEST(ModelValidationTest, TiersOutOfOrder) {
  auto text = ExampleWith("name: medium,    min_score: 40", "name: medium,    min_score: 70");
  ExpectProblem(text, "min_score: 70", "out of order");
}

TEST(ModelValidationTest, LowestTierMustHoldForEveryone) {
  auto text = ExampleWith("{ name: low,       min_score: 0,", "{ name: low,       min_score: 10,");
  ExpectProblem(text, "name: low", "lowest tier");
}

TEST(ModelValidationTest, WeightsThatDoNotAddUp) {
  auto text = ExampleWith("fit_weight: 0.4, intent_weight: 0.6", "fit_weight: 0.4, intent_weight: 0.7");
  ExpectProblem(text, "fit_weight: 0.4", "add up to 1");
}

TEST(ModelValidationTest, NegativeWeight) {
  auto text = ExampleWith("fit_weight: 0.4, intent_weight: 0.6", "fit_weight: -0.4, intent_weight: 1.4");
  ExpectProblem(text, "fit_weight: -0.4", "between 0 and 1");
}

TEST(ModelValidationTest, UnknownOperator) {
  auto text = ExampleWith("{ in: [software, fintech] }", "{ one_of: [software, fintech] }");
  ExpectProblem(text, "one_of", "unknown operator 'one_of'");
}

TEST(ModelValidationTest, UnknownField) {
  auto text = ExampleWith("account.industry:", "account.sector:");
  ExpectProblem(text, "account.sector", "unknown field 'account.sector'");
}

TEST(ModelValidationTest, EventFieldOutsideMultipliersAndFilters) {
  auto text = ExampleWith("account.industry:", "event.attributes.industry:");
  ExpectProblem(text, "event.attributes.industry", "only be used in intent multipliers and filters");
}

TEST(ModelValidationTest, FilterWithBothWhenAndBurst) {
  auto text = ExampleWith("{ name: mail_scanner, burst:", "{ name: mail_scanner, when: { lead.title: { eq: x } }, burst:");
  ExpectProblem(text, "name: mail_scanner", "has both when and burst");
}

TEST(ModelValidationTest, FilterWithNeitherWhenNorBurst) {
  auto text = ExampleWith("{ name: mail_scanner, burst: { events: 4, within: 2s } }", "{ name: mail_scanner }");
  ExpectProblem(text, "name: mail_scanner", "needs when (drop matching events) or burst");
}

TEST(ModelValidationTest, BurstOfOneEvent) {
  auto text = ExampleWith("burst: { events: 4,", "burst: { events: 1,");
  ExpectProblem(text, "events: 1", "burst.events must be between 2 and");
}

TEST(ModelValidationTest, BurstOfAFractionOfAnEvent) {
  auto text = ExampleWith("burst: { events: 4,", "burst: { events: 4.5,");
  ExpectProblem(text, "events: 4.5", "must be a whole number");
}

TEST(ModelValidationTest, BurstWithinBusinessDaysOrTooLong) {
  ExpectProblem(ExampleWith("within: 2s", "within: 1bd"), "within: 1bd", "business days ('1bd') are only allowed for an SLA");
  ExpectProblem(ExampleWith("within: 2s", "within: 2d"), "within: 2d", "at most 1d");
  ExpectProblem(ExampleWith("within: 2s", "within: 0s"), "within: 0s", "must be longer than zero");
}

TEST(ModelValidationTest, BurstMissingItsNumbers) {
  ExpectProblem(ExampleWith("burst: { events: 4, within: 2s }", "burst: { events: 4 }"), "burst: { events: 4 }",
                "missing 'within'");
  ExpectProblem(ExampleWith("burst: { events: 4, within: 2s }", "burst: { event: 4, within: 2s }"), "event: 4",
                "unknown key 'event'");
}

TEST(ModelValidationTest, TwoBurstFilters) {
  auto text = ExampleWith("  - { name: mail_scanner, burst: { events: 4, within: 2s } }\n",
                          "  - { name: mail_scanner, burst: { events: 4, within: 2s } }\n"
                          "  - { name: crawler, burst: { events: 50, within: 10m } }\n");
  ExpectProblem(text, "name: crawler", "at most one burst filter");
}

TEST(ModelValidationTest, FilterNamesAreUniqueAndPlain) {
  ExpectProblem(ExampleWith("name: mail_scanner", "name: known_bots"), "name: known_bots, burst", "defined twice");
  ExpectProblem(ExampleWith("name: mail_scanner", "name: \"mail scanner\""), "mail scanner", "letters, digits");
}

TEST(ModelValidationTest, FilterConditionsAreCheckedLikeAnyOther) {
  auto text = ExampleWith("event.attributes.bot: { eq: \"true\" }", "event.attributes.bot: { equals: \"true\" }");
  ExpectProblem(text, "equals", "unknown operator 'equals'");
}

TEST(ModelValidationTest, FiltersMustBeAList) {
  std::string text = ExampleWith("filters:", "filters: { known_bots: 1 }\nunused_filters:");
  ExpectProblem(text, "filters: { known_bots", "filters must be a list");
}

TEST(ModelValidationTest, FeedbackKindThatIsNotAnOutcome) {
  auto text = ExampleWith("CLOSED_WON: 365d", "CLOSED_ONE: 365d");
  ExpectProblem(text, "CLOSED_ONE", "'CLOSED_ONE' is not a sales outcome kind");
}

TEST(ModelValidationTest, FeedbackDurationsAndSignalsAreChecked) {
  ExpectProblem(ExampleWith("OPPORTUNITY_CREATED: 90d", "OPPORTUNITY_CREATED: 90"), "OPPORTUNITY_CREATED: 90",
                "has no known unit");
  ExpectProblem(ExampleWith("REJECTED: { points: -15,", "REJECTED: { points: 0,"), "REJECTED: { points: 0",
                "feedback.signals.REJECTED.points must not be zero");
  ExpectProblem(ExampleWith("REJECTED: { points: -15, half_life: 30d }", "REJECTED: { points: -15 }"),
                "REJECTED: { points: -15 }", "missing 'half_life'");
  ExpectProblem(ExampleWith("  suppress:", "  surpress:"), "surpress", "unknown key 'surpress' in feedback");
}

TEST(ModelValidationTest, FeedbackProblemsAreListedTogetherWithTheirLines) {
  std::string text = ExampleWith(
      "  suppress: { OPPORTUNITY_CREATED: 90d, CLOSED_WON: 365d }\n",
      "  suppress:\n"
      "    OPPORTUNITY_CREATED: 0d\n"
      "    CLOSED_WIN: 365d\n"
      "    CLOSED_LOST: 5bd\n"
      "    ACCEPTED: soon\n");
  text = Apply(text, "  signals:  { REJECTED: { points: -15, half_life: 30d } }\n",
               "  signals:\n"
               "    REJECTED: { half_life: 30d }\n"
               "    CLOSED_LOST: { points: -5, half_life: 0d }\n"
               "    ACCEPTED: { points: 5, half_life: -2d }\n"
               "    CLOSED_WON: { points: 5, half_life: 2d, decay: fast }\n");
  auto r = LoadModelFromString(text);
  ASSERT_FALSE(r.ok());
  ExpectProblem(text, "OPPORTUNITY_CREATED: 0d", "feedback.suppress.OPPORTUNITY_CREATED must be longer than zero");
  ExpectProblem(text, "CLOSED_WIN", "'CLOSED_WIN' is not a sales outcome kind");
  ExpectProblem(text, "CLOSED_LOST: 5bd", "only allowed for an SLA");
  ExpectProblem(text, "ACCEPTED: soon", "feedback.suppress.ACCEPTED");
  ExpectProblem(text, "REJECTED: { half_life: 30d }", "missing 'points' in feedback.signals.REJECTED");
  ExpectProblem(text, "half_life: 0d", "feedback.signals.CLOSED_LOST.half_life must be longer than zero");
  ExpectProblem(text, "half_life: -2d", "feedback.signals.ACCEPTED.half_life must be positive");
  ExpectProblem(text, "decay: fast", "unknown key 'decay' in feedback.signals.CLOSED_WON");
  EXPECT_EQ(r.problems.size(), 8u) << r.ErrorText();
}

TEST(ModelValidationTest, FeedbackKindGivenTwice) {
  auto text = ExampleWith("CLOSED_WON: 365d }", "CLOSED_WON: 365d, OPPORTUNITY_CREATED: 30d }");
  auto r = LoadModelFromString(text);
  ASSERT_FALSE(r.ok()) << "a kind given twice is refused, not resolved silently";
  EXPECT_THAT(r.ErrorText(), HasSubstr("OPPORTUNITY_CREATED"));
}

TEST(ModelValidationTest, FeedbackSignalNamedLikeASignal) {
  auto text = ExampleWith("    unsubscribe:", "    REJECTED:");
  auto r = LoadModelFromString(text);
  ASSERT_FALSE(r.ok()) << "a factor name would stand for two things";
  EXPECT_THAT(r.ErrorText(), HasSubstr("feedback signal 'REJECTED' shares its name with a signal"));
}

TEST(ModelValidationTest, RoleTheCommitteeLacks) {
  auto text = ExampleWith("lead.role: { eq: procurement }", "lead.role: { eq: purchasing }");
  ExpectProblem(text, "purchasing", "role 'purchasing' is not a role of account.committee.roles");
}

TEST(ModelValidationTest, MultiplierNamesAnUnknownSignal) {
  auto text = ExampleWith("signals: [whitepaper_download]", "signals: [ebook_download]");
  ExpectProblem(text, "ebook_download", "'ebook_download' is not a signal");
}

TEST(ModelValidationTest, NumericOperatorOnTextField) {
  auto text = ExampleWith("lead.seniority: { in: [vp, c_level, director] }", "lead.seniority: { gte: 3 }");
  ExpectProblem(text, "lead.seniority: { gte", "text field");
}

TEST(ModelValidationTest, BetweenLowAboveHigh) {
  auto text = ExampleWith("between: [200, 5000]", "between: [5000, 200]");
  ExpectProblem(text, "between: [5000, 200]", "low is above high");
}

TEST(ModelValidationTest, BusinessDaysOnlyForSlas) {
  auto text = ExampleWith("contact_window: 30d", "contact_window: 30bd");
  ExpectProblem(text, "contact_window: 30bd", "only allowed for an SLA");
}

TEST(ModelValidationTest, AccountOnlyMinimumOnALeadTier) {
  auto text = ExampleWith("{ name: high,      min_score: 65,", "{ name: high,      min_roles: 2, min_score: 65,");
  ExpectProblem(text, "min_roles: 2, min_score: 65", "unknown key 'min_roles'");
}

TEST(ModelValidationTest, DuplicateTierName) {
  auto text = ExampleWith("name: medium,", "name: high,");
  ExpectProblem(text, "name: high,    min_score: 40", "defined twice");
}

TEST(ModelValidationTest, ReservedTierName) {
  auto text = ExampleWith("{ name: C, min_score: 0 }", "{ name: disqualified, min_score: 0 }");
  ExpectProblem(text, "name: disqualified", "reserved");
}

TEST(ModelValidationTest, SuppressedIsAReservedTierNameToo) {
  auto text = ExampleWith("{ name: C, min_score: 0 }", "{ name: suppressed, min_score: 0 }");
  ExpectProblem(text, "name: suppressed", "'suppressed' is a reserved tier name");
}

TEST(ModelValidationTest, MissingSection) {
  auto r = LoadModelFromString("version: x\nfit: { grades: { A: 50 } }\n");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.ErrorText(), HasSubstr("missing 'intent'"));
  EXPECT_THAT(r.ErrorText(), HasSubstr("missing 'lead'"));
  EXPECT_THAT(r.ErrorText(), HasSubstr("missing 'account'"));
}

TEST(ModelValidationTest, ListsEveryProblemAtOnceInLineOrder) {
  auto text = ExampleWith("cap: 9", "cap: -9");
  text = text.replace(text.find("half_life: 21d"), 14, "half_life: -21d");
  text = text.replace(text.find("{ in: [software, fintech] }"), 27, "{ one_of: [software, fintech] }");
  auto r = LoadModelFromString(text);
  ASSERT_FALSE(r.ok());
  ASSERT_EQ(r.problems.size(), 3u) << r.ErrorText();
  EXPECT_LT(r.problems[0].line, r.problems[1].line);
  EXPECT_LT(r.problems[1].line, r.problems[2].line);
}

TEST(ModelValidationTest, NotYamlIsAProblemWithItsLine) {
  auto r = LoadModelFromString("fit:\n  rules: [\n    { name: x\nintent: {");
  ASSERT_FALSE(r.ok());
  EXPECT_GT(r.problems[0].line, 0);
  EXPECT_THAT(r.problems[0].message, HasSubstr("not valid YAML"));
}

TEST(ModelValidationTest, GarbageNeverCrashes) {
  for (const char* text : {"", "42", "[]", "- a\n- b", "fit: 3\nintent: []\nlead: x\naccount: {}", "\x01\x02\xff",
                           "fit: { rules: [ { when: { lead.role: { eq: [1, 2] } } } ] }",
                           "intent: { signals: { a: { points: 1e999, half_life: 1d } } }"}) {
    auto r = LoadModelFromString(text);
    EXPECT_FALSE(r.ok()) << text;
    EXPECT_FALSE(r.problems.empty()) << text;
  }
}

TEST(ModelValidationTest, MissingFileIsAProblem) {
  auto r = LoadModelFromFile("/nonexistent/model.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.ErrorText(), HasSubstr("cannot open"));
}

}  // namespace
}  // namespace leadscore::model
