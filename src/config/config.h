// The service configuration file (leadscore.yaml): YAML maps onto plain option structs
// here and nowhere else. Unknown keys and bad values are refused with their line.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "logging/logging.h"
#include "server/http_options.h"
#include "stream/options.h"

namespace leadscore::config {

struct Config {
  stream::ServiceOptions service;
  std::string model_path;
  std::string state_dir = "leadscore-state";
  server::HttpOptions http;  // the address, the admin token and the connection limits
  int embedded_partitions = 4;  // topic partitions when --embedded-broker creates them
  std::string log_level = "info";
  logging::Format log_format = logging::Format::kText;
};

// Every problem, one per line, "line N: ..."; ok with the config otherwise.
//
// Values may hold `${env:NAME}` (an environment variable) and `${file:/path}` (a file's
// content, one trailing newline dropped), so secrets stay out of the file; `$${` is a
// literal `${`. An unset variable or an unreadable file is a problem with its line.
//
// Relative paths (`model`, `state_dir`, the default state_dir, `${file:}`) are taken
// against `base_dir`; an empty `base_dir` leaves them as written (the working
// directory's). LoadConfigFromFile passes the config file's directory.
Result<Config> LoadConfigFromString(std::string_view yaml, const std::string& base_dir = "");
Result<Config> LoadConfigFromFile(const std::string& path);

}  // namespace leadscore::config
