#include "report/report.h"

namespace leadscore::report {

Status AddSuggestion(const model::Model&, const std::string&, const std::vector<engine::RoutingEvent>&,
                     const std::vector<codec::WireOutcome>&, Report*) {
  return Status::Unavailable("not yet");
}

}  // namespace leadscore::report
