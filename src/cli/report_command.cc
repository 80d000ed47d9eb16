#include "cli/report_command.h"

#include <spdlog/spdlog.h>

#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/replay.h"
#include "codec/codec.h"
#include "model/model.h"
#include "report/report.h"

namespace leadscore::cli {
namespace {

Status WriteFile(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary);
  f << text;
  f.close();
  if (!f) return Status::IoError("cannot write '" + path + "'");
  return Status::Ok();
}

Result<std::string> ReadAll(const std::string& path) {
  std::ostringstream s;
  if (path == "-") {
    s << std::cin.rdbuf();
    return s.str();
  }
  std::ifstream f(path, std::ios::binary);
  if (!f) return Status::IoError("cannot open input '" + path + "'");
  s << f.rdbuf();
  return s.str();
}

}  // namespace

int RunReport(const ReportFlags& flags) {
  if (!flags.config_path.empty()) {
    // SPEC section 4's other form reads a running service's state; not built yet.
    std::cerr << "report --config (a running service's state) is not implemented yet; use --model M --input F\n"
              << "Run with --help for more information.\n";
    return 2;
  }
  if (flags.model_path.empty() || flags.input.empty()) {
    std::cerr << "report needs --model and --input (or --config)\nRun with --help for more information.\n";
    return 2;
  }
  std::ifstream model_file(flags.model_path, std::ios::binary);
  std::stringstream model_text;
  model_text << model_file.rdbuf();
  auto loaded = model::LoadModelFromString(model_text.str());
  if (!model_file || !loaded.ok()) {
    std::cerr << flags.model_path << ": model refused:\n"
              << (model_file ? loaded.ErrorText() : std::string("cannot read the file\n"));
    return 1;
  }
  auto input = ReadAll(flags.input);
  if (!input.ok()) {
    std::cerr << input.status().message() << "\n";
    return 1;
  }
  // The routing events: `replay`'s own function over the input, its JSON lines read back.
  std::istringstream in(*input);
  std::ostringstream routed_json;
  ReplayOptions options;
  Replay(loaded.model, in, routed_json, std::cerr, options);
  std::vector<engine::RoutingEvent> routed;
  {
    std::istringstream lines(routed_json.str());
    std::string line;
    while (std::getline(lines, line)) {
      auto ev = codec::RoutingEventFromJson(line);
      if (!ev.ok()) {
        std::cerr << "report: " << ev.status().message() << "\n";  // our own output: cannot happen
        return 1;
      }
      routed.push_back(std::move(*ev));
    }
  }
  // The outcomes, as the input has them (the replay reported the lines it refused).
  std::vector<codec::WireOutcome> outcomes;
  {
    std::istringstream lines(*input);
    std::string line;
    while (std::getline(lines, line)) {
      if (line.find("\"outcome\"") == std::string::npos) continue;  // cheap: most lines are events
      auto o = codec::DecodeOutcome(line, codec::Format::kJson);
      if (o.ok() && o->has_value()) outcomes.push_back(std::move(**o));
    }
  }
  report::Report r = report::BuildReport(*loaded.model, routed, outcomes);
  if (!flags.suggest_path.empty()) {
    const Status s = report::AddSuggestion(*loaded.model, model_text.str(), routed, outcomes, &r);
    if (!s.ok()) {
      std::cerr << "report: no suggestion: " << s.message() << "\n";
    } else if (const Status w = WriteFile(flags.suggest_path, r.suggestion->draft_yaml); !w.ok()) {
      std::cerr << w.message() << "\n";
      return 1;
    }
  }
  std::cout << report::ToText(r);
  for (const auto& [path, text] : {std::pair{flags.json_path, &report::ToJson}, std::pair{flags.html_path, &report::ToHtml}}) {
    if (path.empty()) continue;
    if (const Status w = WriteFile(path, text(r)); !w.ok()) {
      std::cerr << w.message() << "\n";
      return 1;
    }
  }
  return 0;
}

}  // namespace leadscore::cli
