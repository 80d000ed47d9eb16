// What Apply says it did with each input: applied, or skipped and why. Callers count
// skips by this value, so it must agree with the engine's own counters. Drives the
// Engine itself (through the real decoder): the answer under test is the engine's.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "engine/harness.h"

namespace leadscore::testing {
namespace {

using engine::ApplyOutcome;

class Driver {
 public:
  explicit Driver(engine::EngineOptions options = {})
      : model_(MustLoad(kTestModel)),
        engine_(model_, options),
        decoder_(*model_, engine_.lead_ids(), engine_.account_ids()) {}

  std::optional<ApplyOutcome> Apply(const std::string& json) {
    auto in = decoder_.Decode(json, codec::Format::kJson);
    EXPECT_TRUE(in.ok()) << in.status().message() << " in " << json;
    if (!in.ok()) return std::nullopt;
    return engine_.Apply(*in, &events_).outcome;
  }
  std::optional<ApplyOutcome> Event(const std::string& id, const std::string& type, int64_t at) {
    return Apply(R"({"event":{"event_id":")" + id + R"(","lead_id":"l1","account_id":"a1","type":")" + type +
                 R"(","occurred_at_ms":")" + std::to_string(at) + R"("}})");
  }
  std::optional<ApplyOutcome> Lead(const std::string& seniority, int64_t updated) {
    return Apply(R"({"lead":{"lead_id":"l1","account_id":"a1","seniority":")" + seniority +
                 R"(","updated_at_ms":")" + std::to_string(updated) + R"("}})");
  }
  std::optional<ApplyOutcome> Account(const std::string& industry, int64_t updated) {
    return Apply(R"({"account":{"account_id":"a1","industry":")" + industry + R"(","updated_at_ms":")" +
                 std::to_string(updated) + R"("}})");
  }
  const engine::Engine& engine() const { return engine_; }

 private:
  std::shared_ptr<const model::Model> model_;
  engine::Engine engine_;
  codec::Decoder decoder_;
  std::vector<engine::RoutingEvent> events_;
};

TEST(ApplyOutcomeTest, EachInputSaysWhetherItWasAppliedOrWhyNot) {
  engine::EngineOptions o;
  o.dedupe_window_ms = 5 * kDay;
  Driver d(o);
  EXPECT_EQ(d.Event("x", "demo", kT0 + 10 * kDay), ApplyOutcome::kApplied);
  EXPECT_EQ(d.Event("x", "demo", kT0 + 10 * kDay), ApplyOutcome::kDuplicate);
  EXPECT_EQ(d.Event("y", "page_scroll", kT0 + 10 * kDay), ApplyOutcome::kUnknownSignal);
  EXPECT_EQ(d.Event("z", "demo", kT0 + 4 * kDay), ApplyOutcome::kTooLate) << "6 days late, the window is 5";

  EXPECT_EQ(d.Lead("vp", 5), ApplyOutcome::kApplied);
  EXPECT_EQ(d.Lead("intern", 3), ApplyOutcome::kStaleProfile);
  EXPECT_EQ(d.Account("software", 5), ApplyOutcome::kApplied);
  EXPECT_EQ(d.Account("retail", 4), ApplyOutcome::kStaleProfile);

  EXPECT_EQ(d.Apply(R"({"outcome":{"routing_id":"r","lead_id":"l1","account_id":"a1","kind":"ACCEPTED",)"
                    R"("occurred_at_ms":"1"}})"),
            ApplyOutcome::kApplied);
  EXPECT_EQ(d.Apply(R"({"forget":{"lead_id":"l1","account_id":"a1"}})"), ApplyOutcome::kApplied);

  const engine::EngineStats& s = d.engine().stats();
  EXPECT_EQ(s.skipped_duplicate, 1u);
  EXPECT_EQ(s.skipped_unknown_signal, 1u);
  EXPECT_EQ(s.skipped_too_late, 1u);
  EXPECT_EQ(s.profiles_stale, 2u);
}

TEST(ApplyOutcomeTest, AnIdForgottenPastTheDedupeMemoryIsTooLateNotDuplicate) {
  engine::EngineOptions o;
  o.dedupe_max_ids_per_lead = 2;
  Driver d(o);
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(d.Event("id" + std::to_string(i), "view", kT0 + i * kMin), ApplyOutcome::kApplied);
  }
  EXPECT_EQ(d.Event("id0", "view", kT0), ApplyOutcome::kTooLate);
}

TEST(ApplyOutcomeTest, InputsAboutEntitiesNotHeldAreAppliedAsNoOps) {
  Driver d;
  EXPECT_EQ(d.Apply(R"({"outcome":{"routing_id":"r","lead_id":"nobody","account_id":"a9","kind":"ACCEPTED",)"
                    R"("occurred_at_ms":"1"}})"),
            ApplyOutcome::kApplied);
  EXPECT_EQ(d.Apply(R"({"forget":{"lead_id":"nobody","account_id":"a9"}})"), ApplyOutcome::kApplied);
  EXPECT_EQ(d.Apply(R"({"forget":{"account_id":"a9"}})"), ApplyOutcome::kApplied);
  EXPECT_FALSE(d.engine().ViewAccount("a9").has_value());
}

TEST(ApplyOutcomeTest, NamesAreTheMetricLabels) {
  EXPECT_EQ(engine::OutcomeName(ApplyOutcome::kApplied), "applied");
  EXPECT_EQ(engine::OutcomeName(ApplyOutcome::kUnknownSignal), "unknown_signal");
  EXPECT_EQ(engine::OutcomeName(ApplyOutcome::kDuplicate), "duplicate");
  EXPECT_EQ(engine::OutcomeName(ApplyOutcome::kTooLate), "too_late");
  EXPECT_EQ(engine::OutcomeName(ApplyOutcome::kStaleProfile), "stale_profile");
  EXPECT_EQ(engine::OutcomeName(ApplyOutcome::kFiltered), "filtered");
  EXPECT_EQ(engine::OutcomeName(ApplyOutcome::kHeld), "held");
}

}  // namespace
}  // namespace leadscore::testing
