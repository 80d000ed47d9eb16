// `leadscore run` and `leadscore broker`: the long-running commands.
#pragma once

#include <optional>
#include <string>

namespace leadscore::cli {

struct RunFlags {
  std::string config_path;
  std::optional<std::string> model_path;
  std::optional<std::string> brokers;
  bool embedded_broker = false;
};

int RunService(const RunFlags& flags);
int RunBroker(int partitions);

}  // namespace leadscore::cli
