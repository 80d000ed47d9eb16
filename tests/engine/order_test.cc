// The final state does not depend on the order events arrive in.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "engine/harness.h"

namespace leadscore::testing {
namespace {

struct Ev {
  std::string id, lead, account, type, attrs;
  int64_t at;
};

std::vector<Ev> Stream(uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<Ev> out;
  const char* types[] = {"view", "view", "view", "demo", "unsub"};
  for (int i = 0; i < 600; ++i) {
    const int lead = static_cast<int>(rng() % 30);
    Ev e;
    e.id = "e" + std::to_string(i);
    e.lead = "l" + std::to_string(lead);
    e.account = "a" + std::to_string(lead % 5);
    e.type = types[rng() % 5];
    e.attrs = rng() % 3 == 0 ? R"({"region":"emea"})" : "{}";
    e.at = kT0 + static_cast<int64_t>(rng() % (20 * kDay));
    out.push_back(e);
  }
  std::sort(out.begin(), out.end(), [](const Ev& a, const Ev& b) { return a.at < b.at; });
  return out;
}

void Profiles(Harness& h) {
  for (int a = 0; a < 5; ++a) {
    h.Account("a" + std::to_string(a), a % 2 ? R"("industry":"software")" : R"("industry":"retail")");
  }
  const char* roles[] = {"buyer", "user", ""};
  for (int l = 0; l < 30; ++l) {
    const std::string role = roles[l % 3];
    h.Lead("l" + std::to_string(l), "a" + std::to_string(l % 5),
           std::string(l % 4 ? R"("seniority":"vp")" : R"("seniority":"intern")") +
               (role.empty() ? "" : R"(,"role":")" + role + "\""));
  }
}

void ExpectSameState(Harness& x, Harness& y, bool compare_tiers) {
  const double hysteresis = x.model().lead.hysteresis;
  for (int l = 0; l < 30; ++l) {
    const std::string id = "l" + std::to_string(l);
    auto a = x.LeadView(id), b = y.LeadView(id);
    ASSERT_EQ(a.as_of_ms, b.as_of_ms);
    for (size_t s = 0; s < a.signal_points.size(); ++s) EXPECT_NEAR(a.signal_points[s], b.signal_points[s], 1e-9) << id;
    EXPECT_NEAR(a.intent, b.intent, 1e-9) << id;
    EXPECT_NEAR(a.score, b.score, 1e-9) << id;
    // Hysteresis makes the tier path-dependent only inside a band below a minimum.
    bool in_band = false;
    for (const auto& t : x.model().lead.tiers) {
      if (t.min_score && a.score < *t.min_score && a.score >= *t.min_score - hysteresis) in_band = true;
      if (t.min_intent && a.intent < *t.min_intent && a.intent >= *t.min_intent - hysteresis) in_band = true;
    }
    if (compare_tiers && !in_band) EXPECT_EQ(a.tier, b.tier) << id;
  }
  for (int ac = 0; ac < 5; ++ac) {
    const std::string id = "a" + std::to_string(ac);
    auto a = x.AccountView(id), b = y.AccountView(id);
    for (size_t s = 0; s < a.signal_points.size(); ++s) EXPECT_NEAR(a.signal_points[s], b.signal_points[s], 1e-9) << id;
    EXPECT_NEAR(a.score, b.score, 1e-9) << id;
    EXPECT_NEAR(a.coverage, b.coverage, 1e-9) << id;
    EXPECT_EQ(a.engaged_contacts, b.engaged_contacts) << id;
    EXPECT_EQ(a.committee_roles, b.committee_roles) << id;
  }
}

TEST(OrderTest, AShuffledStreamEndsInTheSameState) {
  for (uint64_t seed : {1, 2, 3}) {
    SCOPED_TRACE(seed);
    auto events = Stream(seed);
    Harness ordered, shuffled;
    Profiles(ordered);
    Profiles(shuffled);
    for (const auto& e : events) ordered.Event(e.lead, e.account, e.type, e.at, e.id, e.attrs);
    std::shuffle(events.begin(), events.end(), std::mt19937_64(seed * 7919));
    for (const auto& e : events) shuffled.Event(e.lead, e.account, e.type, e.at, e.id, e.attrs);
    ASSERT_EQ(ordered.engine().stream_time(), shuffled.engine().stream_time());
    ExpectSameState(ordered, shuffled, true);
    // Long after, every tier has settled to what its score says, whatever the path.
    ordered.Advance(kT0 + 400 * kDay);
    shuffled.Advance(kT0 + 400 * kDay);
    ExpectSameState(ordered, shuffled, true);
  }
}

}  // namespace
}  // namespace leadscore::testing
