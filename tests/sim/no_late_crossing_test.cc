// Checks are never late: the engine checks an entity only when it has solved that decay
// could change its tier by then (Scorer::LeadNextDue, AccountNextDue), so a check it
// leaves out must be one that could change nothing. Here the SPEC example model scores
// the synthetic market, and at about 100 moments of stream time every lead's and
// account's tier is compared with the tier its measures at that moment decide (the
// views decay a copy; DecideTier is the policy's rule). A crossing the checks missed
// would show as an entity still in a tier its measures have left, if nothing touched it
// before the next moment (the unit tests check crossings' milliseconds).
#include <gtest/gtest.h>

#include <span>
#include <string>
#include <vector>

#include "codec/codec.h"
#include "engine/engine.h"
#include "engine/harness.h"
#include "engine/tiers.h"
#include "model/model.h"
#include "sim/market.h"

namespace leadscore::testing {
namespace {

int16_t TierIndex(const model::EntityPolicy& p, const std::string& name) {
  if (name == "disqualified") return engine::kDisqualifiedTier;
  if (name == "suppressed") return engine::kSuppressedTier;
  for (size_t i = 0; i < p.tiers.size(); ++i) {
    if (p.tiers[i].name == name) return static_cast<int16_t>(i);
  }
  ADD_FAILURE() << "no tier " << name;
  return 0;
}

// The tier the view's measures decide from its tier: its own when nothing is late.
std::string Decided(const model::EntityPolicy& p, const engine::EntityView& v) {
  engine::Measures ms;
  ms.fit = v.fit;
  ms.intent = v.intent;
  ms.score = v.score;
  ms.engaged_contacts = v.engaged_contacts;
  ms.engaged_roles = static_cast<int32_t>(v.committee_roles.size());
  ms.disqualified = v.disqualified;
  return engine::TierName(p, engine::DecideTier(p, TierIndex(p, v.tier), ms));
}

TEST(NoLateCrossingTest, EveryTierHoldsAtMomentsThroughTheMarket) {
  auto loaded = model::LoadModelFromFile(std::string(LEADSCORE_SOURCE_DIR) + "/examples/model.yaml");
  ASSERT_TRUE(loaded.ok()) << loaded.ErrorText();
  const model::Model& m = *loaded.model;
  engine::Engine eng(loaded.model);
  sim::Market market({.accounts = 300, .leads = 3000, .seed = 5});
  codec::Decoder dec(eng.model(), eng.lead_ids(), eng.account_ids());
  std::vector<engine::RoutingEvent> out;
  auto apply = [&](const auto& wire) {
    auto in = dec.Decode(codec::EncodeInput(wire, codec::Format::kProtobuf), codec::Format::kProtobuf);
    ASSERT_TRUE(in.ok());
    eng.Apply(*in, &out);
  };
  for (uint32_t a = 0; a < market.accounts(); ++a) apply(market.AccountProfile(a, 1));
  for (uint32_t l = 0; l < market.leads(); ++l) apply(market.LeadProfile(l, 1));
  const std::vector<sim::EventSpec> traffic = market.Traffic(30000, kT0, 60 * kDay);

  size_t checked = 0, above_lowest = 0;
  auto check_all = [&](int64_t now) {
    eng.Advance(now, &out);
    for (uint32_t a = 0; a < market.accounts(); ++a) {
      const auto v = eng.ViewAccount(market.AccountProfile(a, 1).account_id);
      if (!v) continue;
      ASSERT_EQ(Decided(m.account, *v), v->tier) << "account " << v->id << " at " << now;
      above_lowest += v->tier != m.account.tiers.back().name;
      ++checked;
    }
    for (uint32_t l = 0; l < market.leads(); ++l) {
      const auto v = eng.ViewLead(market.LeadProfile(l, 1).lead_id);
      if (!v) continue;
      ASSERT_EQ(Decided(m.lead, *v), v->tier) << "lead " << v->id << " at " << now;
      ++checked;
    }
  };
  // Between events (the traffic's own times), and on after the last for the tails.
  for (size_t i = 0; i < traffic.size(); ++i) {
    apply(market.Event(traffic[i]));
    if (i % 500 == 499) ASSERT_NO_FATAL_FAILURE(check_all(traffic[i].at_ms + 1));
  }
  for (int64_t t = traffic.back().at_ms; t < traffic.back().at_ms + 120 * kDay; t += 3 * kDay + 7 * kHour) {
    ASSERT_NO_FATAL_FAILURE(check_all(t));
  }
  EXPECT_GT(checked, 100000u);
  EXPECT_GT(above_lowest, 1000u) << "the accounts must reach tiers that decay can leave";
}

}  // namespace
}  // namespace leadscore::testing
