// What Apply says it did with each input: applied, or skipped and why. Callers count
// skips by this value, so it must agree with the engine's own counters.
#include <gtest/gtest.h>

#include "engine/harness.h"

namespace leadscore::testing {
namespace {

using engine::ApplyOutcome;

TEST(ApplyOutcomeTest, EachInputSaysWhetherItWasAppliedOrWhyNot) {
  engine::EngineOptions o;
  o.dedupe_window_ms = 5 * kDay;
  Harness h(kTestModel, o);

  h.Event("l1", "a1", "demo", kT0 + 10 * kDay, "x");
  EXPECT_EQ(h.last_outcome(), ApplyOutcome::kApplied);
  h.Event("l1", "a1", "demo", kT0 + 10 * kDay, "x");
  EXPECT_EQ(h.last_outcome(), ApplyOutcome::kDuplicate);
  h.Event("l1", "a1", "page_scroll", kT0 + 10 * kDay);
  EXPECT_EQ(h.last_outcome(), ApplyOutcome::kUnknownSignal);
  h.Event("l1", "a1", "demo", kT0 + 4 * kDay);  // 6 days late, the window is 5
  EXPECT_EQ(h.last_outcome(), ApplyOutcome::kTooLate);

  h.Lead("l1", "a1", R"("seniority":"vp")", 5);
  EXPECT_EQ(h.last_outcome(), ApplyOutcome::kApplied);
  h.Lead("l1", "a1", R"("seniority":"intern")", 3);
  EXPECT_EQ(h.last_outcome(), ApplyOutcome::kStaleProfile);
  h.Account("a1", R"("industry":"software")", 5);
  EXPECT_EQ(h.last_outcome(), ApplyOutcome::kApplied);
  h.Account("a1", R"("industry":"retail")", 4);
  EXPECT_EQ(h.last_outcome(), ApplyOutcome::kStaleProfile);

  h.Json(R"({"outcome":{"routing_id":"r","lead_id":"l1","account_id":"a1","kind":"ACCEPTED","occurred_at_ms":"1"}})");
  EXPECT_EQ(h.last_outcome(), ApplyOutcome::kApplied);
  h.Json(R"({"forget":{"lead_id":"l1","account_id":"a1"}})");
  EXPECT_EQ(h.last_outcome(), ApplyOutcome::kApplied);

  const engine::EngineStats& s = h.engine().stats();
  EXPECT_EQ(s.skipped_duplicate, 1u);
  EXPECT_EQ(s.skipped_unknown_signal, 1u);
  EXPECT_EQ(s.skipped_too_late, 1u);
  EXPECT_EQ(s.profiles_stale, 2u);
}

TEST(ApplyOutcomeTest, AnIdForgottenPastTheDedupeMemoryIsTooLateNotDuplicate) {
  engine::EngineOptions o;
  o.dedupe_max_ids_per_lead = 2;
  Harness h(kTestModel, o);
  for (int i = 0; i < 3; ++i) h.Event("l1", "a1", "view", kT0 + i * kMin, "id" + std::to_string(i));
  h.Event("l1", "a1", "view", kT0, "id0");
  EXPECT_EQ(h.last_outcome(), ApplyOutcome::kTooLate);
}

TEST(ApplyOutcomeTest, InputsAboutEntitiesNotHeldAreAppliedAsNoOps) {
  Harness h;
  h.Json(R"({"outcome":{"routing_id":"r","lead_id":"nobody","account_id":"a9","kind":"ACCEPTED","occurred_at_ms":"1"}})");
  EXPECT_EQ(h.last_outcome(), ApplyOutcome::kApplied);
  h.Json(R"({"forget":{"lead_id":"nobody","account_id":"a9"}})");
  EXPECT_EQ(h.last_outcome(), ApplyOutcome::kApplied);
  h.Json(R"({"forget":{"account_id":"a9"}})");
  EXPECT_EQ(h.last_outcome(), ApplyOutcome::kApplied);
  EXPECT_FALSE(h.engine().ViewAccount("a9").has_value());
}

TEST(ApplyOutcomeTest, NamesAreTheMetricLabels) {
  EXPECT_EQ(engine::OutcomeName(ApplyOutcome::kApplied), "applied");
  EXPECT_EQ(engine::OutcomeName(ApplyOutcome::kUnknownSignal), "unknown_signal");
  EXPECT_EQ(engine::OutcomeName(ApplyOutcome::kDuplicate), "duplicate");
  EXPECT_EQ(engine::OutcomeName(ApplyOutcome::kTooLate), "too_late");
  EXPECT_EQ(engine::OutcomeName(ApplyOutcome::kStaleProfile), "stale_profile");
}

}  // namespace
}  // namespace leadscore::testing
