// libFuzzer target: arbitrary bytes through the decoder (binary protobuf or JSON,
// with or without a Kafka key) and, when they decode, through the engine step and
// its persistence round trip. Any crash, leak or UB is a bug; found ones become
// tests. Built by scripts/fuzz.sh with clang (-DLEADSCORE_FUZZ=ON).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "codec/codec.h"
#include "engine/engine.h"
#include "model/model.h"

namespace {

const char* kModel = R"(
fit:
  rules:
    - { name: target, when: { account.industry: { in: [software, fintech] } }, points: 40 }
    - { name: big, when: { account.employee_count: { gte: 100 } }, points: 20 }
    - { name: senior, when: { lead.seniority: { eq: vp } }, points: 30 }
    - { name: tagged, when: { lead.attributes.tag: { exists: true } }, points: 5 }
  disqualify:
    - { name: blocked, when: { account.country: { in: [XX] } } }
  grades: { A: 80, B: 50 }
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
    - { name: hot, min_score: 60, min_intent: 20, sla: 2bd }
    - { name: warm, min_score: 30, sla: 48h }
    - { name: cold, min_score: 0 }
account:
  score: { fit_weight: 0.5, intent_weight: 0.3, committee_weight: 0.2 }
  hysteresis: 2
  committee: { roles: { buyer: 3, user: 1 }, role_min_intent: 20, contact_window: 10d }
  tiers:
    - { name: A, min_score: 40, min_engaged_contacts: 2, min_roles: 1 }
    - { name: C, min_score: 0 }
)";

struct World {
  std::shared_ptr<const leadscore::model::Model> model = leadscore::model::LoadModelFromString(kModel).model;
  std::unique_ptr<leadscore::engine::Engine> engine;
  std::unique_ptr<leadscore::codec::Decoder> decoder;
  int inputs = 0;
  void Reset() {
    engine = std::make_unique<leadscore::engine::Engine>(model);
    decoder = std::make_unique<leadscore::codec::Decoder>(*model, engine->lead_ids(), engine->account_ids());
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static World world;
  if (!world.engine || ++world.inputs % 5000 == 0) world.Reset();  // keep state bounded
  if (size < 1) return 0;
  const uint8_t mode = data[0];
  const std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  const auto format = mode & 1 ? leadscore::codec::Format::kJson : leadscore::codec::Format::kProtobuf;
  std::optional<std::string_view> key;
  if (mode & 2) key = std::string_view("a1");
  auto input = world.decoder->Decode(bytes, format, key);
  std::vector<leadscore::engine::RoutingEvent> out;
  if (input.ok()) world.engine->Apply(*input, &out);
  if (mode & 4) world.engine->Advance(world.engine->stream_time() + static_cast<int64_t>(mode) * 3600000, &out);
  for (const auto& ev : out) (void)leadscore::codec::ToJson(ev);
  if (mode & 8) {  // persistence round trip of whatever changed
    std::vector<leadscore::engine::Engine::Change> changes;
    world.engine->TakeChanges(&changes);
    leadscore::engine::Engine other(world.model);
    for (const auto& c : changes) {
      if (c.kind == leadscore::engine::EntityKind::kAccount && !c.bytes.empty()) (void)other.Restore(c.kind, c.id, c.bytes);
    }
    for (const auto& c : changes) {
      if (c.kind == leadscore::engine::EntityKind::kLead && !c.bytes.empty()) (void)other.Restore(c.kind, c.id, c.bytes);
    }
    other.ResumeAt(world.engine->stream_time());
  }
  return 0;
}
