// `leadscore report`: the calibration report (SPEC section 7) over a replay of JSON
// lines (the same replay as `leadscore replay` scores the input, its outcomes are
// joined to the routing events), or over a service's state dir (`--config`: the routing
// snapshots the service joined its outcomes to); src/report/ does the rest.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "codec/codec.h"
#include "common/status.h"
#include "engine/engine.h"
#include "model/model.h"
#include "report/report.h"

namespace leadscore::cli {

struct ReportFlags {
  std::string config_path;  // a service's config: the report over its state_dir (--model overrides its model)
  std::string model_path;
  std::string input;        // JSON lines of leadscore.v1.Input ('-': stdin)
  std::string json_path, html_path, suggest_path;
};

// Exit code: 0 done, 1 an unreadable config, model, input or state or an unwritable
// output, 2 a usage error.
int RunReport(const ReportFlags& flags);

// `report --suggest` over a replay (src/report does the arithmetic, this runs the
// replays it needs):
//   SampleLeads        every lead's state (not disqualified, not suppressed) every
//                      `every_ms` of stream time, replaying `model` over `input`;
//   SuggestOverReplay  the suggestion fitted on those states before the split, its
//                      lead tier minimums set by volume (a probe of the draft replayed),
//                      and the replayed held-out check. `routed`: `model`'s replay of
//                      `input`; `outcomes`: the input's.
report::LeadSamples SampleLeads(std::shared_ptr<const model::Model> model, const std::string& input,
                                int64_t every_ms);
Status SuggestOverReplay(std::shared_ptr<const model::Model> model, const std::string& model_yaml,
                         const std::string& input, const std::vector<engine::RoutingEvent>& routed,
                         const std::vector<codec::WireOutcome>& outcomes, report::Report* r);

}  // namespace leadscore::cli
