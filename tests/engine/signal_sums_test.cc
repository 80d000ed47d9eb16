// An entity keeps a sum only for the signals it has had (EntityCommon::signals, in
// signal order): whichever order they arrive in, each sum stays with its signal, in
// memory, in the views and through the store.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "engine/harness.h"
#include "engine/state.h"

namespace leadscore::testing {
namespace {

constexpr double kEps = 1e-9;

TEST(SignalSumsTest, SignalsActivatedOutOfOrderKeepTheirOwnSums) {
  engine::EntityCommon e;
  EXPECT_TRUE(e.signals.empty()) << "no sum before a signal's first event";
  e.ActiveSum(40).value = 40;
  e.ActiveSum(3).value = 3;
  e.ActiveSum(63).value = 63;
  e.ActiveSum(0).value = 0.5;
  e.ActiveSum(3).value += 1;  // already active: the same sum, not a new one
  e.ActiveSum(10).value = 10;
  ASSERT_EQ(e.signals.size(), 5u);
  EXPECT_LT(e.signals.capacity(), 8u) << "grown to fit, not doubled";
  EXPECT_EQ(e.active, (uint64_t{1} << 0) | (uint64_t{1} << 3) | (uint64_t{1} << 10) | (uint64_t{1} << 40) |
                          (uint64_t{1} << 63));
  EXPECT_EQ(e.Sum(0).value, 0.5);
  EXPECT_EQ(e.Sum(3).value, 4);
  EXPECT_EQ(e.Sum(10).value, 10);
  EXPECT_EQ(e.Sum(40).value, 40);
  EXPECT_EQ(e.Sum(63).value, 63);
  // In signal order: what a pass over the active bits reads in step with them.
  EXPECT_EQ(e.signals[0].value, 0.5);
  EXPECT_EQ(e.signals[1].value, 4);
  EXPECT_EQ(e.signals[2].value, 10);
  EXPECT_EQ(e.signals[3].value, 40);
  EXPECT_EQ(e.signals[4].value, 63);
}

TEST(SignalSumsTest, ViewsListEverySignalWithZeroForTheOnesNotYetHad) {
  Harness h;
  h.Event("l1", "a1", "unsub", kT0);  // the model's third signal first
  h.Event("l1", "a1", "view", kT0);
  engine::EntityView v = h.LeadView("l1");
  ASSERT_EQ(v.signal_points.size(), 3u) << "view, demo, unsub";
  EXPECT_NEAR(v.signal_points[0], 10, kEps);
  EXPECT_EQ(v.signal_points[1], 0) << "no demo yet";
  EXPECT_NEAR(v.signal_points[2], -50, kEps);
  h.Event("l1", "a1", "demo", kT0);
  v = h.LeadView("l1");
  EXPECT_NEAR(v.signal_points[0], 10, kEps);
  EXPECT_NEAR(v.signal_points[1], 40, kEps);
  EXPECT_NEAR(v.signal_points[2], -50, kEps);
  EXPECT_NEAR(h.AccountView("a1").signal_points[1], 40, kEps);
}

TEST(SignalSumsTest, SumsHadInAnyOrderComeBackFromTheStoreWithTheirSignals) {
  Harness original, restored;
  original.Event("l1", "a1", "demo", kT0);
  original.Event("l2", "a1", "unsub", kT0);
  original.Event("l2", "a1", "view", kT0 + kHour);
  original.Event("l1", "a1", "view", kT0 + kHour);
  std::vector<engine::Engine::Change> changes;
  original.engine().TakeChanges(&changes);
  std::map<std::pair<engine::EntityKind, std::string>, std::string> store;
  for (auto& c : changes) store[{c.kind, c.id}] = std::move(c.bytes);
  for (auto kind : {engine::EntityKind::kAccount, engine::EntityKind::kLead}) {  // accounts first
    for (const auto& [key, bytes] : store) {
      if (key.first != kind) continue;
      ASSERT_TRUE(restored.engine().Restore(key.first, key.second, bytes).ok()) << key.second;
    }
  }
  restored.engine().ResumeAt(kT0 + kHour);
  for (const char* lead : {"l1", "l2"}) {
    EXPECT_EQ(original.LeadView(lead).signal_points, restored.LeadView(lead).signal_points) << lead;
  }
  EXPECT_EQ(original.AccountView("a1").signal_points, restored.AccountView("a1").signal_points);
  EXPECT_EQ(restored.LeadView("l2").signal_points[1], 0) << "l2 never had a demo";
}

}  // namespace
}  // namespace leadscore::testing
