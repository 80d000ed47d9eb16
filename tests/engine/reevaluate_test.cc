// A model change (SPEC section 3, "Changing the model"): state written under one model,
// restored under another and re-evaluated, equals a replay of the same inputs under the
// new model from the start, for changes of points, caps, tiers, weights, fit rules on a
// field the old model never read, and the committee. Both models have no hysteresis:
// with it, re-evaluation starts from the tier an entity is in (as any input does), where
// a replay may have left it elsewhere inside the band.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "engine/harness.h"

namespace leadscore::testing {
namespace {

using ::testing::StartsWith;
using Store = std::map<std::pair<engine::EntityKind, std::string>, std::string>;

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  const size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

std::string BaseModel() { return Replace(kTestModel, "hysteresis: 5", "hysteresis: 0"); }

struct Change {
  const char* name;
  std::string (*edit)(std::string);
};

const Change kChanges[] = {
    {"points", [](std::string m) { return Replace(Replace(m, "points: 40, half_life: 10d", "points: 25, half_life: 10d"), "points: 10, half_life: 1d", "points: 14, half_life: 1d"); }},
    {"caps", [](std::string m) {
       return Replace(Replace(m, "half_life: 1d, cap: 30 }", "half_life: 1d, cap: 12 }"), "  hysteresis: 0\n  committee",
                      "  hysteresis: 0\n  intent_caps: { demo: 50 }\n  committee");
     }},
    {"tiers", [](std::string m) { return Replace(Replace(m, "min_score: 60, min_intent: 20", "min_score: 50, min_intent: 10"), "{ name: warm, min_score: 30", "{ name: warm, min_score: 45"); }},
    {"weights", [](std::string m) { return Replace(Replace(m, "fit_weight: 0.5, intent_weight: 0.5", "fit_weight: 0.2, intent_weight: 0.8"), "fit_weight: 0.5, intent_weight: 0.3, committee_weight: 0.2", "fit_weight: 0.2, intent_weight: 0.4, committee_weight: 0.4"); }},
    {"fit_rules", [](std::string m) {
       // Fields the old model never read: a lead attribute and the account's market.
       return Replace(m, "    - { name: senior,", "    - { name: enterprise, when: { lead.attributes.segment: { eq: enterprise } }, points: 35 }\n"
                                                  "    - { name: emea_market, when: { account.market: { eq: emea } }, points: 20 }\n"
                                                  "    - { name: senior,");
     }},
    {"committee", [](std::string m) { return Replace(m, "roles: { buyer: 3, user: 1 }, role_min_intent: 20", "roles: { user: 2, champion: 1 }, role_min_intent: 8"); }},
};

// A small market: accounts with and without profiles, leads of several kinds, events
// over three weeks with decay, multipliers, an unsubscribe and a forgotten lead.
void Story(Harness& h) {
  h.Advance(kT0);
  const char* industries[] = {"software", "retail", "software", "software", "health"};
  const char* markets[] = {"emea", "amer", "emea", "apac", "emea"};
  for (int a = 0; a < 5; ++a) {
    h.Account("a" + std::to_string(a), std::string(R"("industry":")") + industries[a] + R"(","market":")" +
                                           markets[a] + "\"");
  }
  const char* roles[] = {"buyer", "user", "champion"};
  for (int l = 0; l < 16; ++l) {
    if (l == 15) continue;  // l15 has events, no profile
    h.Lead("l" + std::to_string(l), "a" + std::to_string(l % 5),
           std::string(R"("seniority":")") + (l % 3 ? "vp" : "manager") + R"(","role":")" + roles[l % 3] +
               R"(","attributes":{"segment":")" + (l % 4 ? "enterprise" : "smb") + "\"}");
  }
  uint64_t x = 7;
  for (int i = 0; i < 400; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    const int l = static_cast<int>((x >> 33) % 16);
    const uint64_t kind = (x >> 20) % 10;
    const char* type = kind < 6 ? "view" : kind < 9 ? "demo" : "unsub";
    const int64_t at = kT0 + i * (21 * kDay / 400);
    h.Event("l" + std::to_string(l), "a" + std::to_string(l % 5), type, at, "e" + std::to_string(i),
            (x >> 40) % 3 == 0 ? R"({"region":"emea"})" : "{}");
  }
  h.Json(R"({"forget":{"lead_id":"l7","account_id":"a2"}})");
  h.Advance(kT0 + 22 * kDay);
}

void Drain(Harness& h, Store* store) {
  std::vector<engine::Engine::Change> changes;
  h.engine().TakeChanges(&changes);
  for (auto& c : changes) {
    if (c.bytes.empty()) store->erase({c.kind, c.id});
    else (*store)[{c.kind, c.id}] = std::move(c.bytes);
  }
}

std::set<std::string> Ids(const Store& store, engine::EntityKind kind) {
  std::set<std::string> ids;
  for (const auto& [key, bytes] : store) {
    if (key.first == kind) ids.insert(key.second);
  }
  return ids;
}

class ReevaluateTest : public ::testing::TestWithParam<Change> {};

TEST_P(ReevaluateTest, EqualsAReplayUnderTheNewModelFromTheStart) {
  const std::string old_yaml = BaseModel(), new_yaml = GetParam().edit(BaseModel());
  ASSERT_NE(old_yaml, new_yaml);
  Harness running(old_yaml), replayed(new_yaml), changed(new_yaml);
  Story(running);
  Story(replayed);
  Store store;
  Drain(running, &store);
  const std::set<std::string> accounts = Ids(store, engine::EntityKind::kAccount),
                              leads = Ids(store, engine::EntityKind::kLead);
  ASSERT_EQ(accounts.size(), 5u);
  ASSERT_EQ(leads.size(), 15u);  // l7 forgotten

  // The state of the old model, restored under the new one and re-evaluated.
  for (auto kind : {engine::EntityKind::kAccount, engine::EntityKind::kLead}) {
    for (const auto& [key, bytes] : store) {
      if (key.first != kind) continue;
      const Status st = changed.engine().Restore(kind, key.second, bytes);
      ASSERT_TRUE(st.ok()) << key.second << ": " << st.message();
    }
  }
  changed.engine().ResumeAt(running.engine().stream_time());
  const std::string prefix = "model " + running.engine().model().version + " -> " + changed.engine().model().version;
  std::vector<engine::RoutingEvent> moves;
  for (const std::string& a : accounts) {
    changed.engine().Reevaluate(changed.engine().account_ids().Find(a), prefix, &moves);
  }

  // Every entity: the same numbers and tier as the replay; a routing event exactly for
  // the entities whose tier under the old model differs from the new one's.
  std::map<std::string, engine::RoutingEvent> moved;
  for (const auto& ev : moves) {
    EXPECT_THAT(ev.reason, StartsWith(prefix + ": "));
    EXPECT_EQ(ev.occurred_at_ms, kT0 + 22 * kDay);
    EXPECT_TRUE(moved.emplace(ev.entity == engine::EntityKind::kLead ? ev.lead_id : ev.account_id, ev).second)
        << "one event per entity";
  }
  size_t expected_moves = 0;
  for (const auto& [kind, ids] : {std::pair{engine::EntityKind::kLead, leads}, std::pair{engine::EntityKind::kAccount, accounts}}) {
    for (const std::string& id : ids) {
      const bool lead = kind == engine::EntityKind::kLead;
      const auto before = lead ? running.LeadView(id) : running.AccountView(id);
      const auto want = lead ? replayed.LeadView(id) : replayed.AccountView(id);
      const auto got = lead ? changed.LeadView(id) : changed.AccountView(id);
      EXPECT_NEAR(got.fit, want.fit, 1e-9) << id;
      EXPECT_NEAR(got.intent, want.intent, 1e-9) << id;
      EXPECT_NEAR(got.score, want.score, 1e-9) << id;
      EXPECT_EQ(got.tier, want.tier) << id;
      EXPECT_EQ(got.grade, want.grade) << id;
      EXPECT_EQ(got.committee_roles, want.committee_roles) << id;
      EXPECT_EQ(got.engaged_contacts, want.engaged_contacts) << id;
      ASSERT_EQ(got.signal_points.size(), want.signal_points.size()) << id;
      for (size_t s = 0; s < got.signal_points.size(); ++s) EXPECT_NEAR(got.signal_points[s], want.signal_points[s], 1e-9) << id;
      if (before.tier != want.tier) {
        ++expected_moves;
        ASSERT_TRUE(moved.count(id)) << id << " " << before.tier << " -> " << want.tier;
        EXPECT_EQ(moved[id].from_tier, before.tier) << id;
        EXPECT_EQ(moved[id].to_tier, want.tier) << id;
      } else {
        EXPECT_FALSE(moved.count(id)) << id << " stays in " << before.tier;
      }
    }
  }
  EXPECT_EQ(moves.size(), expected_moves);
  if (std::string(GetParam().name) != "caps" && std::string(GetParam().name) != "committee") {
    EXPECT_GT(expected_moves, 0u) << "the change moves someone, so the check has teeth";
  }

  // Every entity is written again (in the current format) after the change.
  std::vector<engine::Engine::Change> rewritten;
  changed.engine().TakeChanges(&rewritten);
  EXPECT_EQ(rewritten.size(), accounts.size() + leads.size());
}

INSTANTIATE_TEST_SUITE_P(Changes, ReevaluateTest, ::testing::ValuesIn(kChanges),
                         [](const auto& info) { return std::string(info.param.name); });

// A change that removes a signal and a tier and adds another signal: the state is read
// by name, so the removed signal stops counting and the new one starts at 0. An entity in
// a tier the new model no longer has is read as in its lowest tier (README, "Changing
// the model"): here that is where it belongs, so no routing event.
TEST(ReevaluateByNameTest, RemovedSignalsStopCountingAndARemovedTierReadsAsTheLowest) {
  const std::string old_yaml = BaseModel();
  std::string new_yaml = Replace(old_yaml, "    demo:  { points: 40, half_life: 10d }\n",
                                 "    webinar: { points: 20, half_life: 5d }\n");
  new_yaml = Replace(new_yaml, "    - { name: warm, min_score: 30, sla: 48h, action: Nurture }\n", "");
  Harness running(old_yaml), changed(new_yaml);
  running.Advance(kT0);
  running.Account("a1", R"("industry":"software")");
  running.Lead("l1", "a1", R"("seniority":"vp","role":"buyer")");  // fit 80
  running.Event("l1", "a1", "view", kT0, "v1");
  running.Event("l1", "a1", "demo", kT0, "d1");
  ASSERT_EQ(running.LeadView("l1").tier, "hot");
  running.Advance(kT0 + 30 * kDay);  // the demo has decayed to 5 points: score 40 + ..., warm
  ASSERT_EQ(running.LeadView("l1").tier, "warm");
  Store store;
  Drain(running, &store);
  for (auto kind : {engine::EntityKind::kAccount, engine::EntityKind::kLead}) {
    for (const auto& [key, bytes] : store) {
      if (key.first == kind) ASSERT_TRUE(changed.engine().Restore(kind, key.second, bytes).ok());
    }
  }
  changed.engine().ResumeAt(running.engine().stream_time());
  std::vector<engine::RoutingEvent> moves;
  changed.engine().Reevaluate(changed.engine().account_ids().Find("a1"), "model x -> y", &moves);
  const auto v = changed.LeadView("l1");
  // The view decayed 30 half-lives (10 points: about 1e-8 left); the demo is gone, the
  // webinar was never seen.
  EXPECT_NEAR(v.intent, 10 * std::pow(0.5, 30), 1e-12);
  ASSERT_EQ(v.signal_points.size(), 3u);
  EXPECT_EQ(v.signal_points[1], 0) << "webinar starts at 0";
  EXPECT_EQ(v.tier, "cold");
  for (const auto& ev : moves) EXPECT_NE(ev.lead_id, "l1") << ev.from_tier << " -> " << ev.to_tier;
}

}  // namespace
}  // namespace leadscore::testing
