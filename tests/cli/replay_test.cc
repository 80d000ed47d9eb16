// `leadscore replay` end to end on the shipped example, and on bad input.
#include "cli/replay.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "codec/codec.h"
#include "model/model.h"

namespace leadscore::cli {
namespace {

using ::testing::HasSubstr;

const std::string kDir = LEADSCORE_SOURCE_DIR;

std::shared_ptr<const model::Model> ExampleModel() {
  auto r = model::LoadModelFromFile(kDir + "/examples/model.yaml");
  EXPECT_TRUE(r.ok()) << r.ErrorText();
  return r.model;
}

std::vector<engine::RoutingEvent> Parse(const std::string& jsonl) {
  std::vector<engine::RoutingEvent> out;
  std::istringstream in(jsonl);
  std::string line;
  while (std::getline(in, line)) {
    auto ev = codec::RoutingEventFromJson(line);
    EXPECT_TRUE(ev.ok()) << line;
    if (ev.ok()) out.push_back(*ev);
  }
  return out;
}

std::string Story(const engine::RoutingEvent& e) {
  return (e.entity == engine::EntityKind::kLead ? e.lead_id : e.account_id) + " " + e.from_tier + ">" + e.to_tier;
}

TEST(ReplayTest, TheExampleStory) {
  std::ifstream in(kDir + "/examples/events.jsonl");
  std::ostringstream out, err;
  ReplayOptions options;
  options.until_ms = 1791190800000 + 70LL * 86400000;  // ten weeks after the story starts
  auto summary = Replay(ExampleModel(), in, out, err, options);
  EXPECT_EQ(summary.bad_lines, 0u);
  EXPECT_EQ(summary.stats.skipped_duplicate, 1u);
  EXPECT_EQ(summary.stats.skipped_unknown_signal, 1u);
  EXPECT_EQ(summary.stats.forgets, 1u);
  std::vector<std::string> story;
  for (const auto& e : Parse(out.str())) story.push_back(Story(e));
  EXPECT_THAT(story, ::testing::ElementsAre(
                         "acme-ana low>medium", "acme C>B", "acme-bob low>medium", "acme-cy low>medium", "acme B>A",
                         "acme-ana medium>high", "acme-ana high>very_high",
                         // then the account goes quiet and decay demotes, in time order
                         "acme-ana very_high>high", "acme-ana high>medium", "acme A>B", "acme-bob medium>low",
                         "acme B>C", "acme-cy medium>low"));
  EXPECT_THAT(err.str(), HasSubstr("routed 13"));
  // hooli's mail scanner (21 clicks in 0.15 s) and a crawler marked bot=true: dropped.
  EXPECT_THAT(summary.filtered, ::testing::ElementsAre(1, 21));
  EXPECT_EQ(summary.held_at_end, 0u);
  EXPECT_THAT(err.str(), HasSubstr("filtered 22: known_bots 1, mail_scanner 21; 0 events still held at the end"));
}

// Outcomes take the same path as in `run`: a CLOSED_WON for ana after the story's last
// record suppresses her and acme (the example's feedback.suppress, 365d), so the decay
// that demoted them routes nothing more; bob and cy demote as before.
TEST(ReplayTest, AWonOutcomeSuppressesTheLeadAndItsAccount) {
  std::ifstream file(kDir + "/examples/events.jsonl");
  std::stringstream text;
  text << file.rdbuf();
  int64_t last = 0;
  const std::string field = "\"occurred_at_ms\":";  // a number in this file
  for (size_t at = text.str().find(field); at != std::string::npos; at = text.str().find(field, at + 1)) {
    last = std::max<int64_t>(last, std::stoll(text.str().substr(at + field.size())));
  }
  ASSERT_GT(last, 0);
  std::istringstream in(text.str() + R"({"outcome":{"lead_id":"acme-ana","account_id":"acme","kind":"CLOSED_WON","occurred_at_ms":")" +
                        std::to_string(last) + "\"}}\n");
  std::ostringstream out, err;
  ReplayOptions options;
  options.until_ms = 1791190800000 + 70LL * 86400000;
  Replay(ExampleModel(), in, out, err, options);
  std::vector<std::string> story;
  for (const auto& e : Parse(out.str())) story.push_back(Story(e));
  EXPECT_THAT(story, ::testing::ElementsAre(
                         "acme-ana low>medium", "acme C>B", "acme-bob low>medium", "acme-cy low>medium", "acme B>A",
                         "acme-ana medium>high", "acme-ana high>very_high", "acme-ana very_high>suppressed",
                         "acme A>suppressed", "acme-bob medium>low", "acme-cy medium>low"));
}

TEST(ReplayTest, NoOneAtADisqualifiedOrNoiseAccountIsRouted) {
  std::ifstream in(kDir + "/examples/events.jsonl");
  std::ostringstream out, err;
  Replay(ExampleModel(), in, out, err, {});
  for (const auto& e : Parse(out.str())) {
    EXPECT_NE(e.account_id, "initech");
    EXPECT_NE(e.account_id, "globex");
  }
}

TEST(ReplayTest, BadLinesAreReportedWithTheirNumberAndSkipped) {
  std::istringstream in(
      R"({"event":{"event_id":"e1","lead_id":"l","account_id":"a","type":"pricing_page_view","occurred_at_ms":"1790000000000"}})"
      "\n"
      "this is not json\n"
      "\n"
      R"({"event":{"lead_id":"l","account_id":"a","type":"pricing_page_view","occurred_at_ms":"1790000000000"}})"
      "\n"
      R"({"event":{"event_id":"e2","lead_id":"l","account_id":"a","type":"pricing_page_view","occurred_at_ms":"1790000000001"}})"
      "\n");
  std::ostringstream out, err;
  ReplayOptions options;
  options.until_ms = 1790000000000 + 60000;  // past the burst filter's hold
  auto summary = Replay(ExampleModel(), in, out, err, options);
  EXPECT_EQ(summary.bad_lines, 2u);
  EXPECT_EQ(summary.stats.events_scored, 2u) << "the run goes on after a bad line";
  EXPECT_THAT(err.str(), HasSubstr("line 2: not a leadscore.v1.Input in JSON"));
  EXPECT_THAT(err.str(), HasSubstr("line 4: missing required field event.event_id"));
}

// The hold is in stream time, which in a replay stops at the last record: events in
// the last `within` are still held at the end, and --until ends their hold.
TEST(ReplayTest, EventsHeldAtTheEndAreSaidAndUntilEndsTheirHold) {
  const std::string input =
      R"({"event":{"event_id":"e1","lead_id":"l","account_id":"a","type":"pricing_page_view","occurred_at_ms":"1790000000000"}})"
      "\n";
  for (bool until : {false, true}) {
    std::istringstream in(input);
    std::ostringstream out, err;
    ReplayOptions options;
    if (until) options.until_ms = 1790000000000 + 2000;
    auto summary = Replay(ExampleModel(), in, out, err, options);
    EXPECT_EQ(summary.held_at_end, until ? 0u : 1u);
    EXPECT_EQ(summary.stats.events_scored, until ? 1u : 0u);
  }
}

TEST(ReplayTest, SameInputSameOutput) {
  auto run = [] {
    std::ifstream in(kDir + "/examples/events.jsonl");
    std::ostringstream out, err;
    Replay(ExampleModel(), in, out, err, {});
    return out.str();
  };
  EXPECT_EQ(run(), run());
}

}  // namespace
}  // namespace leadscore::cli
