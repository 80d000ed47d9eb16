// Drives the service's partition task (no store, no Kafka) with JSON inputs, and
// collects what it emits. Time is always given explicitly: nothing here sleeps or
// reads a clock.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "codec/codec.h"
#include "engine/engine.h"
#include "model/model.h"
#include "stream/partition_task.h"

namespace leadscore::testing {

constexpr int64_t kT0 = 1790000000000;  // 2026-09-21T14:13:20Z, a Monday
constexpr int64_t kSec = 1000, kMin = 60 * kSec, kHour = 60 * kMin, kDay = 24 * kHour;

// The first millisecond at which `holds(ms)` is true, by a scan from `from` in minute
// steps (up to `to`) then milliseconds: crossings computed in a test independently of
// the engine. `holds` must stay true once it is.
template <typename F>
int64_t FirstMs(int64_t from, int64_t to, F holds) {
  int64_t t = from;
  while (t < to && !holds(t + kMin)) t += kMin;
  while (!holds(t)) ++t;
  return t;
}

inline std::shared_ptr<const model::Model> MustLoad(const std::string& yaml) {
  auto r = model::LoadModelFromString(yaml);
  EXPECT_TRUE(r.ok()) << r.ErrorText();
  return r.model;
}

// One engagement event as the JSON of SPEC §2.
inline std::string EventJson(const std::string& id, const std::string& lead, const std::string& account,
                      const std::string& type, int64_t at) {
  return R"({"event":{"event_id":")" + id + R"(","lead_id":")" + lead + R"(","account_id":")" + account +
         R"(","type":")" + type + R"(","occurred_at_ms":")" + std::to_string(at) + "\"}}";
}

// A small model whose numbers are easy to compute by hand.
inline const char* kTestModel = R"(
version: test
fit:
  rules:
    - { name: target, when: { account.industry: { eq: software } }, points: 50 }
    - { name: senior, when: { lead.seniority: { eq: vp } }, points: 30 }
  disqualify:
    - { name: bad_country, when: { account.country: { in: [XX] } } }
    - { name: student, when: { lead.title: { eq: student } } }
  grades: { A: 80, B: 60 }
intent:
  signals:
    view:  { points: 10, half_life: 1d, cap: 30 }
    demo:  { points: 40, half_life: 10d }
    unsub: { points: -50, half_life: 2d }
  multipliers:
    - { when: { event.attributes.region: { eq: emea } }, signals: [view], factor: 2 }
    - { when: { lead.role: { eq: user } }, factor: 0.5 }
lead:
  score: { fit_weight: 0.5, intent_weight: 0.5 }
  hysteresis: 5
  tiers:
    - { name: hot,  min_score: 60, min_intent: 20, sla: 2bd, action: Call, feedback: required }
    - { name: warm, min_score: 30, sla: 48h, action: Nurture }
    - { name: cold, min_score: 0 }
account:
  score: { fit_weight: 0.5, intent_weight: 0.3, committee_weight: 0.2 }
  hysteresis: 0
  committee: { roles: { buyer: 3, user: 1 }, role_min_intent: 20, contact_window: 10d }
  tiers:
    - { name: A, min_score: 40, min_engaged_contacts: 2, min_roles: 1, sla: 24h }
    - { name: C, min_score: 0 }
)";

// kTestModel with the SPEC example's two filters (a `when` on event.attributes.bot,
// the burst filter `mail_scanner`, index 1).
inline std::string FilterModel(const std::string& burst = "{ events: 4, within: 2s }") {
  std::string m = kTestModel;
  const std::string filters = "filters:\n"
                              "  - { name: known_bots, when: { event.attributes.bot: { eq: \"true\" } } }\n"
                              "  - { name: mail_scanner, burst: " + burst + " }\n";
  m.insert(m.find("lead:\n"), filters);
  return m;
}
constexpr size_t kKnownBots = 0, kMailScanner = 1;

class Harness {
 public:
  explicit Harness(const std::string& yaml = kTestModel, engine::EngineOptions options = {})
      : model_(MustLoad(yaml)), task_(0, model_, TaskOptionsOf(options), nullptr) {}

  void Json(const std::string& json) {
    const stream::InputRecord record{"test", codec::Format::kJson, -1, std::nullopt, json};
    stream::BatchOutcome outcome;
    ASSERT_TRUE(task_.Process({&record, 1}, std::nullopt, &outcome).ok());
    ASSERT_TRUE(outcome.refused.empty()) << outcome.refused[0].error << " in " << json;
    events_.insert(events_.end(), outcome.events.begin(), outcome.events.end());
    totals_.AddCounts(outcome);
  }

  void Event(const std::string& lead, const std::string& account, const std::string& type, int64_t at,
             const std::string& id = "", const std::string& attributes = "{}") {
    const std::string event_id = id.empty() ? "e" + std::to_string(++next_id_) : id;
    Json(R"({"event":{"event_id":")" + event_id + R"(","lead_id":")" + lead + R"(","account_id":")" + account +
         R"(","type":")" + type + R"(","occurred_at_ms":")" + std::to_string(at) + R"(","attributes":)" +
         attributes + "}}");
  }
  void Lead(const std::string& lead, const std::string& account, const std::string& fields, int64_t updated = 1) {
    Json(R"({"lead":{"lead_id":")" + lead + R"(","account_id":")" + account + R"(","updated_at_ms":")" +
         std::to_string(updated) + "\"" + (fields.empty() ? "" : "," + fields) + "}}");
  }
  void Account(const std::string& account, const std::string& fields, int64_t updated = 1) {
    Json(R"({"account":{"account_id":")" + account + R"(","updated_at_ms":")" + std::to_string(updated) + "\"" +
         (fields.empty() ? "" : "," + fields) + "}}");
  }
  void Advance(int64_t now) {
    stream::BatchOutcome outcome;
    task_.AdvanceTo(now, &outcome);
    events_.insert(events_.end(), outcome.events.begin(), outcome.events.end());
    totals_.AddCounts(outcome);
  }

  engine::EntityView LeadView(const std::string& id) {
    auto v = task_.ViewLead(id);
    EXPECT_TRUE(v.has_value()) << "no lead " << id;
    return v.value_or(engine::EntityView{});
  }
  engine::EntityView AccountView(const std::string& id) {
    auto v = task_.ViewAccount(id);
    EXPECT_TRUE(v.has_value()) << "no account " << id;
    return v.value_or(engine::EntityView{});
  }

  // Events emitted since the last call.
  std::vector<engine::RoutingEvent> Take() {
    std::vector<engine::RoutingEvent> out;
    out.swap(events_);
    return out;
  }
  const std::vector<engine::RoutingEvent>& events() const { return events_; }
  // What every record came to so far (applied_as, filtered per filter, released).
  const stream::BatchOutcome& totals() const { return totals_; }
  engine::Engine& engine() { return task_.engine(); }
  const stream::PartitionTask& task() const { return task_; }
  const model::Model& model() const { return *model_; }

 private:
  static stream::TaskOptions TaskOptionsOf(const engine::EngineOptions& engine) {
    stream::TaskOptions o;
    o.engine = engine;
    o.require_key = false;
    return o;
  }
  std::shared_ptr<const model::Model> model_;
  stream::PartitionTask task_;
  std::vector<engine::RoutingEvent> events_;
  stream::BatchOutcome totals_;
  int next_id_ = 0;
};

}  // namespace leadscore::testing
