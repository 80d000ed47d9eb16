// `leadscore report`: the calibration report (SPEC section 7) over a replay of JSON
// lines (the same replay as `leadscore replay` scores the input, its outcomes are
// joined to the routing events), or over a service's state dir (`--config`: the routing
// snapshots the service joined its outcomes to); src/report/ does the rest.
#pragma once

#include <string>

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

}  // namespace leadscore::cli
