// The records of leadscore's internal repartition topic (proto/leadscore/v1/handoff.proto):
// a lead handed from one partition to another (README "A lead that changes partition").
// Each carries its source partition and a sequence number that increases per source, so
// a receiver knows a copy sent again after a crash (it applies each seq once).
#pragma once

#include <cstdint>
#include <span>
#include <vector>
#include <string>
#include <string_view>

#include "common/status.h"
#include "engine/engine.h"

namespace leadscore::codec {

// One record of `handoffs`: a transfer or a forget alone, or any number of claims.
std::string EncodeHandoff(int32_t source_partition, uint64_t seq, std::span<const engine::Handoff> handoffs);

struct HandoffRecord {
  int32_t source_partition = -1;
  uint64_t seq = 0;
  // LeadReleaseInputs (one per claimed lead), a LeadAdoptInput or a relayed ForgetInput.
  std::vector<engine::Input> inputs;
};
// A claim becomes a release toward its source partition; the lead id is interned in `leads`.
Result<HandoffRecord> DecodeHandoff(std::string_view bytes, engine::IdTable& leads);

}  // namespace leadscore::codec
