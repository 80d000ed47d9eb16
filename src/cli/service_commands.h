// `leadscore run` and `leadscore broker`: the long-running commands.
#pragma once

#include <optional>
#include <cstdint>
#include <string>
#include <vector>

namespace leadscore::cli {

struct RunFlags {
  std::string config_path;
  std::optional<std::string> model_path;
  std::optional<std::string> brokers;
  bool embedded_broker = false;
  bool until_caught_up = false;        // exit 0 once the inputs are read to their end
  // When processing stops for good (a batch that cannot be committed), stay up answering
  // 503 on /healthz and /readyz instead of exiting 1.
  bool stay_up_on_failure = false;
  std::optional<int64_t> fixed_clock;  // Unix ms instead of the wall clock: reproducible runs
  bool no_clock = false;               // stream time from the records alone (replay's way)
};

int RunService(const RunFlags& flags);
// The embedded broker alone, with the default topics and `extra_topics`.
int RunBroker(int partitions, const std::vector<std::string>& extra_topics);

}  // namespace leadscore::cli
