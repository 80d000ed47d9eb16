#include "cli/report_command.h"

#include <spdlog/spdlog.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <optional>
#include <sstream>
#include <unordered_map>

#include "cli/replay.h"
#include "cli/replay_loop.h"
#include "codec/codec.h"
#include "config/config.h"
#include "model/model.h"
#include "report/report.h"
#include "store/state_store.h"
#include "stream/partition_task.h"
#include "stream/state_report.h"

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

struct LoadedModel {
  std::shared_ptr<const model::Model> model;
  std::string text;  // what --suggest edits
};

std::optional<LoadedModel> LoadModel(const std::string& path) {
  std::ifstream model_file(path, std::ios::binary);
  std::stringstream model_text;
  model_text << model_file.rdbuf();
  auto loaded = model::LoadModelFromString(model_text.str());
  if (!model_file || !loaded.ok()) {
    std::cerr << path << ": model refused:\n" << (model_file ? loaded.ErrorText() : std::string("cannot read the file\n"));
    return std::nullopt;
  }
  return LoadedModel{loaded.model, model_text.str()};
}

// The report's outputs: the text on stdout, the draft model, JSON and HTML files.
int Write(const ReportFlags& flags, report::Report& r, const Status& suggested) {
  if (!flags.suggest_path.empty()) {
    if (!suggested.ok()) {
      std::cerr << "report: no suggestion: " << suggested.message() << "\n";
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

// A temporary directory, removed with this object.
struct TempDir {
  std::string path;
  ~TempDir() {
    std::error_code ignored;
    if (!path.empty()) std::filesystem::remove_all(path, ignored);
  }
};

// `report --config`: the snapshots in the service's state dir, which is opened as a
// RocksDB secondary instance: read-only, beside a service that may be running on it
// (or stopped), seeing what it had written when the report started.
int ReportFromConfig(const ReportFlags& flags) {
  auto cfg = config::LoadConfigFromFile(flags.config_path);
  if (!cfg.ok()) {
    std::cerr << cfg.status().message() << "\n";
    return 1;
  }
  const std::string model_path = flags.model_path.empty() ? cfg->model_path : flags.model_path;
  if (model_path.empty()) {
    std::cerr << "no model: give --model or `model:` in " << flags.config_path << "\n";
    return 2;
  }
  auto loaded = LoadModel(model_path);
  if (!loaded) return 1;
  if (!std::filesystem::exists(std::filesystem::path(cfg->state_dir) / "CURRENT")) {
    std::cerr << "report: no state in '" << cfg->state_dir << "'\n";
    return 1;
  }
  TempDir secondary;
  std::string pattern = (std::filesystem::temp_directory_path() / "leadscore-report-XXXXXX").string();
  if (!mkdtemp(pattern.data())) {
    std::cerr << "report: cannot create a temporary directory\n";
    return 1;
  }
  secondary.path = pattern;
  store::StoreOptions options = cfg->service.store;
  options.dir = cfg->state_dir;
  options.secondary_dir = secondary.path;
  options.block_cache_bytes = 8 << 20;  // one pass over the snapshots: no need for the service's cache
  auto state = store::StateStore::Open(options);
  if (!state.ok()) {
    std::cerr << "report: " << state.status().message() << "\n";
    return 1;
  }
  auto partitions = (*state)->StoredPartitions();
  if (!partitions.ok()) {
    std::cerr << "report: " << partitions.status().message() << "\n";
    return 1;
  }
  auto routings = stream::ReadRoutings(**state, *partitions);
  if (!routings.ok()) {
    std::cerr << "report: " << routings.status().message() << "\n";
    return 1;
  }
  report::Report r = report::BuildReportFromJoined(*loaded->model, routings->routed, routings->unmatched);
  Status suggested = Status::Ok();
  if (!flags.suggest_path.empty()) {
    // The suggestion joins by itself: each outcome named by the routing event the
    // service joined it to gives the same joins.
    std::vector<engine::RoutingEvent> routed;
    std::vector<codec::WireOutcome> outcomes;
    for (const auto& s : routings->routed) {
      routed.push_back(s.event);
      for (codec::WireOutcome o : s.outcomes) {
        o.routing_id = s.event.routing_id;
        outcomes.push_back(std::move(o));
      }
    }
    suggested = report::AddSuggestion(*loaded->model, loaded->text, routed, outcomes, &r);
  }
  return Write(flags, r, suggested);
}

// Discards what it is given: the extra replays of --suggest report nothing (the first
// replay has said what was wrong with the input).
struct NullStream : std::ostream {
  NullStream() : std::ostream(nullptr) {}
};

// `model` over `input` with replay's own loop; the routing events `keep` wants.
std::vector<engine::RoutingEvent> ReplayEvents(std::shared_ptr<const model::Model> model, const std::string& input,
                                               const std::function<bool(const engine::RoutingEvent&)>& keep) {
  stream::PartitionTask task(0, model, ReplayTaskOptions({}), nullptr);
  std::vector<engine::RoutingEvent> out;
  std::istringstream in(input);
  NullStream quiet;
  stream::BatchOutcome totals;
  RunReplayLoop(task, in, std::nullopt, quiet, [&](const engine::RoutingEvent& ev) {
    if (keep(ev)) out.push_back(ev);
  }, &totals);
  return out;
}

}  // namespace

report::LeadSamples SampleLeads(std::shared_ptr<const model::Model> model, const std::string& input,
                                int64_t every_ms) {
  report::LeadSamples samples;
  const std::vector<std::string> columns = report::SuggestColumns(*model);
  std::unordered_map<std::string, size_t> column;
  for (size_t j = 0; j < columns.size(); ++j) column.emplace(columns[j], j);
  std::unordered_map<std::string, uint32_t> lead_index;
  stream::PartitionTask task(0, model, ReplayTaskOptions({}), nullptr);
  engine::Engine& eng = task.engine();
  std::optional<int64_t> next;
  auto look = [&] {
    const int64_t now = task.stream_time();
    if (now <= 0) return;
    if (!next) next = now + every_ms;  // the first look a period after the first record
    if (now < *next) return;
    while (*next <= now) *next += every_ms;
    const engine::IdTable& ids = eng.lead_ids();
    for (size_t n = 0; n < ids.size(); ++n) {
      const std::string_view id = ids.Name(static_cast<engine::EntityId>(n));
      if (id.empty()) continue;
      const auto view = eng.ViewLead(id);
      // A disqualified lead is never routed; a suppressed one is in a deal already.
      if (!view || view->disqualified || view->tier == "disqualified" || view->tier == "suppressed") continue;
      report::LeadSamples::Row row;
      row.at_ms = view->as_of_ms;
      row.points.assign(columns.size(), 0.0F);
      for (const auto& f : view->factors) {
        if (auto it = column.find(f.name); it != column.end()) row.points[it->second] = static_cast<float>(f.points);
      }
      auto [it, fresh] = lead_index.emplace(id, static_cast<uint32_t>(samples.leads.size()));
      if (fresh) samples.leads.emplace_back(id);
      row.lead = it->second;
      samples.rows.push_back(std::move(row));
    }
  };
  std::istringstream in(input);
  NullStream quiet;
  stream::BatchOutcome totals;
  // Smaller chunks than replay's: a look comes at most a chunk's records after its time.
  RunReplayLoop(task, in, std::nullopt, quiet, [](const engine::RoutingEvent&) {}, &totals, look, 512);
  return samples;
}

Status SuggestOverReplay(std::shared_ptr<const model::Model> model, const std::string& model_yaml,
                         const std::string& input, const std::vector<engine::RoutingEvent>& routed,
                         const std::vector<codec::WireOutcome>& outcomes, report::Report* r) {
  constexpr int64_t kWeekMs = 7LL * 24 * 3600 * 1000;
  const report::LeadSamples samples = SampleLeads(model, input, kWeekMs);
  LEADSCORE_RETURN_IF_ERROR(report::AddSuggestion(*model, model_yaml, routed, outcomes, r, &samples));
  // Tier minimums by volume: the probe (the draft's points, a tier every half point)
  // replayed up to the split tells each lead's highest draft score there.
  auto probe_yaml = report::ProbeYaml(*r->suggestion);
  if (!probe_yaml.ok()) return probe_yaml.status();
  auto probe = model::LoadModelFromString(*probe_yaml);
  if (!probe.ok()) return Status::InvalidArgument("the probe model is refused:\n" + probe.ErrorText());
  const int64_t split = r->suggestion->held_out.split_ms;
  const auto probe_routed = ReplayEvents(probe.model, input, [&](const engine::RoutingEvent& ev) {
    return ev.entity == engine::EntityKind::kLead && ev.direction == engine::Direction::kUp && ev.occurred_at_ms < split;
  });
  LEADSCORE_RETURN_IF_ERROR(report::SetTiersByVolume(*model, routed, *probe.model, probe_routed, r));
  // The held-out period replayed: the draft routes its own leads over the same input.
  auto draft = model::LoadModelFromString(r->suggestion->draft_yaml);
  if (!draft.ok()) return Status::InvalidArgument("the draft model is refused:\n" + draft.ErrorText());
  const auto draft_routed = ReplayEvents(draft.model, input, [](const engine::RoutingEvent&) { return true; });
  report::AddReplayedCheck(*model, *draft.model, routed, draft_routed, outcomes, r);
  return Status::Ok();
}

int RunReport(const ReportFlags& flags) {
  if (!flags.config_path.empty()) {
    if (!flags.input.empty()) {
      std::cerr << "report takes --config or --input, not both\nRun with --help for more information.\n";
      return 2;
    }
    return ReportFromConfig(flags);
  }
  if (flags.model_path.empty() || flags.input.empty()) {
    std::cerr << "report needs --model and --input (or --config)\nRun with --help for more information.\n";
    return 2;
  }
  auto loaded_model = LoadModel(flags.model_path);
  if (!loaded_model) return 1;
  const model::Model* const model = loaded_model->model.get();
  auto input = ReadAll(flags.input);
  if (!input.ok()) {
    std::cerr << input.status().message() << "\n";
    return 1;
  }
  // The routing events: `replay`'s own function over the input, its JSON lines read back.
  std::istringstream in(*input);
  std::ostringstream routed_json;
  ReplayOptions options;
  Replay(loaded_model->model, in, routed_json, std::cerr, options);
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
  report::Report r = report::BuildReport(*model, routed, outcomes);
  Status suggested = Status::Ok();
  if (!flags.suggest_path.empty()) {
    suggested = SuggestOverReplay(loaded_model->model, loaded_model->text, *input, routed, outcomes, &r);
    if (!suggested.ok()) r.suggestion.reset();  // half done: not printed
  }
  return Write(flags, r, suggested);
}

}  // namespace leadscore::cli
