#include "stream/routing_join.h"

namespace leadscore::stream {
namespace {

std::string_view EntityName(engine::EntityKind kind) { return kind == engine::EntityKind::kLead ? "lead" : "account"; }

}  // namespace

void RoutingJoin::Routed(const engine::RoutingEvent& ev) {
  batch_[ev.routing_id] = Pending{ev.entity, ev.to_tier, {}};
  if (ev.direction != engine::Direction::kUp) return;
  const bool lead = ev.entity == engine::EntityKind::kLead;
  batch_up_[{ev.entity, lead ? ev.lead_id : ev.account_id}].emplace_back(ev.occurred_at_ms, ev.routing_id);
}

Result<std::string> RoutingJoin::Find(const codec::WireOutcome& o) const {
  if (!o.routing_id.empty()) {
    if (batch_.count(o.routing_id) || answered_.count(o.routing_id)) return o.routing_id;
    auto stored = store_.GetRouting(partition_, o.routing_id);
    if (!stored.ok()) return stored.status();
    return *stored ? o.routing_id : std::string();
  }
  const bool lead = !o.lead_id.empty();
  const engine::EntityKind kind = lead ? engine::EntityKind::kLead : engine::EntityKind::kAccount;
  const std::string& id = lead ? o.lead_id : o.account_id;
  // This batch's latest at or before the time; among equal times the later emitted.
  const std::pair<int64_t, std::string>* in_batch = nullptr;
  if (auto it = batch_up_.find({kind, id}); it != batch_up_.end()) {
    for (const auto& candidate : it->second) {
      if (candidate.first <= o.occurred_at_ms && (!in_batch || candidate.first >= in_batch->first)) in_batch = &candidate;
    }
  }
  auto stored = store_.LatestUpRouting(partition_, kind, id, o.occurred_at_ms);
  if (!stored.ok()) return stored.status();
  // A batch event came after every stored one: at an equal time it is the later.
  if (in_batch && (!*stored || in_batch->first >= (*stored)->occurred_at_ms)) return in_batch->second;
  return *stored ? (*stored)->routing_id : std::string();
}

Result<JoinedOutcome> RoutingJoin::Answer(codec::WireOutcome o, std::string source) {
  auto found = Find(o);
  if (!found.ok()) return found.status();
  const std::string& id = *found;
  if (!id.empty()) {
    if (auto it = batch_.find(id); it != batch_.end()) {
      it->second.outcomes.push_back(o);
      return JoinedOutcome{std::string(EntityName(it->second.entity)), it->second.tier, o.kind};
    }
    auto it = answered_.find(id);
    if (it == answered_.end()) {
      auto bytes = store_.GetRouting(partition_, id);
      if (!bytes.ok()) return bytes.status();
      if (*bytes) {
        auto snapshot = codec::DecodeSnapshot(**bytes);
        if (!snapshot.ok()) return snapshot.status();
        it = answered_.emplace(id, std::move(*snapshot)).first;
      }
    }
    if (it != answered_.end()) {
      it->second.outcomes.push_back(o);
      return JoinedOutcome{std::string(EntityName(it->second.event.entity)), it->second.event.to_tier, o.kind};
    }
  }
  JoinedOutcome joined{o.lead_id.empty() ? "account" : "lead", std::string(kUnmatchedTier), o.kind};
  const int64_t at = o.occurred_at_ms;
  unmatched_.push_back({at, std::move(source), o.lead_id, o.account_id, codec::EncodeInput(o, codec::Format::kProtobuf)});
  return joined;
}

void RoutingJoin::Stage(const std::vector<engine::RoutingEvent>& kept, store::PartitionCommit* c) {
  for (const engine::RoutingEvent& ev : kept) {
    codec::RoutingSnapshot snapshot{ev, {}};
    if (auto it = batch_.find(ev.routing_id); it != batch_.end()) snapshot.outcomes = std::move(it->second.outcomes);
    const bool lead = ev.entity == engine::EntityKind::kLead;
    c->routings.push_back({ev.routing_id, ev.entity, lead ? ev.lead_id : ev.account_id,
                           ev.direction == engine::Direction::kUp, ev.occurred_at_ms, next_seq_++,
                           codec::EncodeSnapshot(snapshot)});
  }
  c->routing_seq = next_seq_;
  for (const auto& [id, snapshot] : answered_) c->routings_answered[id] = codec::EncodeSnapshot(snapshot);
  c->unmatched = std::move(unmatched_);
  batch_.clear();
  batch_up_.clear();
  answered_.clear();
  unmatched_.clear();
}

}  // namespace leadscore::stream
