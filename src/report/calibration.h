// Internal to src/report: what the outcomes joined to each routing event add up to, the
// one reading of "answered", "won", "lost" that the tables and the suggestion share.
#pragma once

#include <cstdint>
#include <vector>

#include "report/join.h"

namespace leadscore::report {

struct Answer {
  bool answered = false, accepted = false, rejected = false, opportunity = false, won = false, lost = false;
  int64_t first_answer_ms = 0;  // when answered
};

std::vector<Answer> Summarize(const std::vector<engine::RoutingEvent>& routed,
                              const std::vector<codec::WireOutcome>& outcomes, const Joined& joined);

}  // namespace leadscore::report
