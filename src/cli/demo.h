// `leadscore demo` and `leadscore generate`: the synthetic market, shown or streamed.
#pragma once

#include <cstdint>
#include <string>

namespace leadscore::cli {

struct DemoFlags {
  std::string model_path = "examples/model.yaml";
  int accounts = 2000;
  uint64_t seed = 42;
  int weeks = 6;
};
int RunDemo(const DemoFlags& flags);

struct GenerateFlags {
  std::string brokers;
  double rate = 1000;  // events per second
  int accounts = 2000;
  uint64_t seed = 42;
  int64_t count = 0;  // stop after this many events; 0: until interrupted
};
int RunGenerate(const GenerateFlags& flags);

}  // namespace leadscore::cli
