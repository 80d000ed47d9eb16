// SPEC section 2's join as a partition task does it, outcome by outcome as they are
// applied: a sales outcome answers the routing event named by its routing_id, or, when
// that is empty, the latest UP routing event of its lead (of its account when lead_id
// is empty) at or before its occurred_at_ms. Candidates are the routing snapshots the
// partition's state keeps (store/state_store.h) and the routing events of the batch
// emitted before the outcome, which are not stored yet. The outcome is appended to the
// snapshot it answers; one that answers nothing is kept as unmatched, never refused.
// Everything joined waits here until the task's commit stages it (Stage), so snapshots,
// outcomes and the state that produced them are one write.
//
// Not thread-safe: the owning task's batch thread only.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "codec/codec.h"
#include "common/status.h"
#include "engine/engine.h"
#include "store/state_store.h"

namespace leadscore::stream {

// Where one outcome went, for leadscore_outcomes_total{entity,tier,kind}: the entity
// ("lead" | "account") and tier (to_tier) of the routing event it answered; tier
// "unmatched" (entity: "lead" when it names a lead) when it answered none.
struct JoinedOutcome {
  std::string entity, tier;
  codec::WireOutcomeKind kind = codec::WireOutcomeKind::kUnspecified;
  bool operator==(const JoinedOutcome&) const = default;
};
inline constexpr std::string_view kUnmatchedTier = "unmatched";

class RoutingJoin {
 public:
  RoutingJoin(int32_t partition, const store::StateStore& store) : partition_(partition), store_(store) {}

  // The next snapshot seq, as stored (resume).
  void Resume(uint64_t next_seq) { next_seq_ = next_seq; }
  // A routing event of the batch, in the order they happen: a candidate for the
  // outcomes applied after it.
  void Routed(const engine::RoutingEvent& ev);
  // An outcome, after every routing event emitted before it. `source` tells its input
  // record apart (topic, offset). An error: the state could not be read.
  Result<JoinedOutcome> Answer(codec::WireOutcome outcome, std::string source);
  // Prepare: the batch's snapshots into the commit: one per routing event of `kept`
  // (the batch's events less an erased entity's, which are never published), the
  // stored ones its outcomes answered and the unmatched outcomes. Starts a new batch.
  void Stage(const std::vector<engine::RoutingEvent>& kept, store::PartitionCommit* c);

 private:
  struct Pending {
    engine::EntityKind entity = engine::EntityKind::kLead;
    std::string tier;
    std::vector<codec::WireOutcome> outcomes;
  };
  // The routing id `o` answers, or empty.
  Result<std::string> Find(const codec::WireOutcome& o) const;

  const int32_t partition_;
  const store::StateStore& store_;
  uint64_t next_seq_ = 0;
  // The batch: its routing events by id, and its UP events per entity in emission order
  // (time, routing id); the stored snapshots its outcomes answered; the unmatched.
  std::map<std::string, Pending> batch_;
  std::map<std::pair<engine::EntityKind, std::string>, std::vector<std::pair<int64_t, std::string>>> batch_up_;
  std::map<std::string, codec::RoutingSnapshot> answered_;
  std::vector<store::UnmatchedRecord> unmatched_;
};

}  // namespace leadscore::stream
