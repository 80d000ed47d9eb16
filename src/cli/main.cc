// leadscore: the command line (SPEC.md section 4).
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <fstream>
#include <iostream>
#include <limits>
#include <sstream>

#include <unistd.h>

#include "cli/backtest.h"
#include "cli/demo.h"
#include "cli/market_file.h"
#include "cli/export.h"
#include "cli/rebuild.h"
#include "cli/replay.h"
#include "cli/report_command.h"
#include "cli/service_commands.h"
#include "common/version.h"
#include "logging/logging.h"
#include "model/model.h"

namespace {

int Validate(const std::string& path) {
  auto loaded = leadscore::model::LoadModelFromFile(path);
  if (!loaded.ok()) {
    for (const auto& p : loaded.problems) {
      std::cerr << path << ":" << (p.line > 0 ? std::to_string(p.line) + ":" : std::string()) << " " << p.message
                << "\n";
    }
    std::cerr << path << ": " << loaded.problems.size() << " problem(s); model refused\n";
    return 1;
  }
  for (const auto& w : loaded.warnings) std::cerr << path << ":" << w.line << ": warning: " << w.message << "\n";
  const auto& m = *loaded.model;
  std::cout << path << ": ok, model_version " << m.version << ", " << m.signals.size() << " signals, "
            << m.fit_rules.size() << " fit rules, " << m.disqualify.size() << " disqualify rules, "
            << m.lead.tiers.size() << " lead tiers, " << m.account.tiers.size() << " account tiers, "
            << m.committee.roles.size() << " committee roles, " << m.filters.size() << " filters\n";
  return 0;
}

// Where a command's output goes: stdout for "" or "-", else the file (opened into
// `file`); null, the reason printed, if it cannot be written.
std::ostream* OpenOutput(const std::string& path, std::ofstream& file) {
  if (path.empty() || path == "-") return &std::cout;
  file.open(path);
  if (!file) {
    std::cerr << "cannot write output '" << path << "'\n";
    return nullptr;
  }
  return &file;
}

int Replay(const std::string& model_path, const std::string& input, const std::string& output,
           std::optional<int64_t> until, bool text) {
  auto loaded = leadscore::model::LoadModelFromFile(model_path);
  if (!loaded.ok()) {
    std::cerr << model_path << ": model refused:\n" << loaded.ErrorText();
    return 1;
  }
  std::ifstream in_file;
  std::istream* in = &std::cin;
  if (input != "-") {
    in_file.open(input);
    if (!in_file) {
      std::cerr << "cannot open input '" << input << "'\n";
      return 1;
    }
    in = &in_file;
  }
  std::ofstream out_file;
  std::ostream* out = OpenOutput(output, out_file);
  if (!out) return 1;
  leadscore::cli::ReplayOptions options;
  options.until_ms = until;
  options.text = text;
  leadscore::cli::Replay(loaded.model, *in, *out, std::cerr, options);
  out->flush();
  return *out ? 0 : 1;
}

int Export(const leadscore::cli::ExportOptions& options, const std::string& output) {
  std::ofstream out_file;
  std::ostream* out = OpenOutput(output, out_file);
  if (!out) return 1;
  auto summary = leadscore::cli::Export(options, *out, std::cerr);
  if (!summary.ok()) {
    std::cerr << "export: " << summary.status().message() << "\n";
    return 1;
  }
  out->flush();
  std::cerr << "export: " << options.topic << ": " << summary->inputs << " inputs, " << summary->routing_events
            << " routing events, " << summary->dead_letters << " dead letters, " << summary->unreadable
            << " unreadable (skipped)\n";
  return *out ? 0 : 1;
}

bool WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  out.close();
  if (!out) std::cerr << "cannot write '" << path << "'\n";
  return static_cast<bool>(out);
}

int Backtest(const std::string& draft_path, const std::string& baseline_path, const std::string& input,
             std::optional<int64_t> until, const std::string& html, const std::string& json) {
  auto draft = leadscore::model::LoadModelFromFile(draft_path);
  if (!draft.ok()) {
    std::cerr << draft_path << ": model refused:\n" << draft.ErrorText();
    return 1;
  }
  auto baseline = draft;  // no baseline: the draft against itself, no difference
  if (!baseline_path.empty()) {
    baseline = leadscore::model::LoadModelFromFile(baseline_path);
    if (!baseline.ok()) {
      std::cerr << baseline_path << ": model refused:\n" << baseline.ErrorText();
      return 1;
    }
  }
  std::ifstream in(input);
  if (!in) {
    std::cerr << "cannot open input '" << input << "'\n";
    return 1;
  }
  std::stringstream history;
  history << in.rdbuf();
  leadscore::cli::BacktestOptions options;
  options.until_ms = until;
  const auto result = leadscore::cli::Backtest(baseline.model, draft.model, history.str(), std::cerr, options);
  std::cout << leadscore::cli::BacktestText(result);
  if (!json.empty() && !WriteFile(json, leadscore::cli::BacktestJson(result) + "\n")) return 1;
  if (!html.empty() && !WriteFile(html, leadscore::cli::BacktestHtml(result))) return 1;
  return 0;
}

}  // namespace

// "leadscore 0.1.0 (git 8a9d4c9)"
std::string VersionText() {
  std::string v = "leadscore " + std::string(leadscore::kVersion);
  if (!leadscore::kGitDescribe.empty()) v += " (git " + std::string(leadscore::kGitDescribe) + ")";
  return v;
}

// A usage error names what was not understood, even when CLI11 first finds something
// else to complain about (a missing --config hides an unknown --confg), and exits 2.
int UsageError(const CLI::App& app, const CLI::ParseError& e) {
  if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
  const std::vector<std::string> unknown = app.remaining(true);
  if (!unknown.empty() && !dynamic_cast<const CLI::ExtrasError*>(&e)) {
    if (app.get_subcommands().empty() && unknown.front().rfind('-', 0) != 0) {
      std::string commands;
      for (const CLI::App* sub : app.get_subcommands({})) commands += (commands.empty() ? "" : ", ") + sub->get_name();
      std::cerr << "unknown command '" << unknown.front() << "' (commands: " << commands << ")\n"
                << "Run with --help for more information.\n";
      return 2;
    }
    // CLI11's own words for extras, which it would have said had nothing else been wrong.
    std::cerr << (unknown.size() == 1 ? "The following argument was not expected:"
                                      : "The following arguments were not expected:");
    for (const std::string& u : unknown) std::cerr << " " << u;
    std::cerr << "\n";
  }
  app.exit(e);  // CLI11's message and "Run with --help for more information."
  return 2;
}

int main(int argc, char** argv) {
  // Logs go to stderr: stdout carries data (routing events, the bootstrap address).
  // `run` switches to the config's log_format once it has read it.
  leadscore::logging::Setup(leadscore::logging::Format::kText, spdlog::level::info);
  CLI::App app{"leadscore: B2B lead and account scoring on a Kafka stream"};
  app.require_subcommand(1);
  app.set_version_flag("--version", VersionText());

  std::string model_path, input, output;
  int64_t until = 0;

  auto* validate = app.add_subcommand("validate", "Check a model file; list every problem with its line");
  validate->add_option("--model", model_path, "model YAML")->required();

  auto* replay = app.add_subcommand("replay", "Score JSON lines of Input; print JSON lines of RoutingEvent");
  replay->add_option("--model", model_path, "model YAML")->required();
  replay->add_option("--input", input, "JSON lines of leadscore.v1.Input ('-' for stdin)")->required();
  replay->add_option("--output", output, "where the RoutingEvent JSON lines go (default stdout)");
  auto* until_opt = replay->add_option("--until", until, "decay on to this time (Unix ms) after the last record");
  std::string format = "json";
  replay->add_option("--format", format, "json (RoutingEvent JSON lines) or text (readable lines)")
      ->check(CLI::IsMember({"json", "text"}));

  leadscore::cli::RunFlags run_flags;
  std::string run_model, run_brokers;
  auto* run = app.add_subcommand("run", "The streaming service: Kafka in, routing events out");
  run->add_option("--config", run_flags.config_path, "leadscore.yaml")->required();
  auto* run_model_opt = run->add_option("--model", run_model, "model YAML (overrides the config)");
  auto* run_brokers_opt = run->add_option("--brokers", run_brokers, "host:port,... (overrides the config)");
  run->add_flag("--embedded-broker", run_flags.embedded_broker,
                "start a Kafka-protocol broker in the process and print its bootstrap address");
  run->add_flag("--until-caught-up", run_flags.until_caught_up,
                "exit once every input is read to its end and every routing event delivered");
  run->add_flag("--stay-up-on-failure", run_flags.stay_up_on_failure,
                "when processing stops for good, stay up answering 503 on /healthz and /readyz instead of exiting 1");
  int64_t fixed_clock = 0;
  auto* fixed_clock_opt = run->add_option("--fixed-clock", fixed_clock,
                                          "Unix ms to use as the clock instead of the wall clock (reproducible runs)");
  auto* no_clock_opt = run->add_flag("--no-clock", run_flags.no_clock,
                                     "no clock: stream time moves with the records alone, as in replay (reproducible "
                                     "runs over history)");
  no_clock_opt->excludes(fixed_clock_opt);

  int broker_partitions = 4;
  auto* broker = app.add_subcommand("broker", "Only the embedded broker, as its own process");
  broker->add_option("--partitions", broker_partitions, "partitions per topic")->check(CLI::Range(1, 256));
  std::vector<std::string> broker_topics;
  broker->add_option("--topic", broker_topics, "another topic to create (repeatable)");

  leadscore::cli::DemoFlags demo_flags;
  auto* demo = app.add_subcommand("demo", "Embedded broker + service + a generated market, as readable lines");
  demo->add_option("--model", demo_flags.model_path, "model YAML")->capture_default_str();
  demo->add_option("--accounts", demo_flags.accounts, "accounts in the market")->capture_default_str();
  demo->add_option("--seed", demo_flags.seed, "market seed")->capture_default_str();
  demo->add_option("--weeks", demo_flags.weeks, "simulated weeks")->check(CLI::Range(4, 52))->capture_default_str();

  leadscore::cli::GenerateFlags gen_flags;
  auto* generate = app.add_subcommand("generate", "A synthetic market into Kafka, in real time");
  auto* gen_brokers = generate->add_option("--brokers", gen_flags.brokers, "host:port,...");
  std::string gen_output;
  int gen_weeks = 6;
  auto* gen_output_opt = generate->add_option("--output", gen_output,
                                              "instead of Kafka: the market in simulated time with sales outcomes, "
                                              "as JSON lines ('-' for stdout)");
  gen_output_opt->excludes(gen_brokers);
  generate->add_option("--weeks", gen_weeks, "with --output: simulated weeks")->check(CLI::Range(4, 52));
  double gen_buying_share = 0.01;
  generate->add_option("--buying-share", gen_buying_share,
                       "with --output: the share of accounts that ramp up to a purchase (more buyers, more outcomes)")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  generate->add_option("--rate", gen_flags.rate, "events per second")
      ->check(CLI::Range(0.001, 1e7))
      ->capture_default_str();
  generate->add_option("--accounts", gen_flags.accounts, "accounts in the market")
      ->check(CLI::Range(1, 10000000))
      ->capture_default_str();
  generate->add_option("--seed", gen_flags.seed, "market seed")->capture_default_str();
  generate->add_option("--count", gen_flags.count, "stop after this many events (0: until interrupted)")
      ->check(CLI::Range(int64_t{0}, std::numeric_limits<int64_t>::max()));

  leadscore::cli::ReportFlags report_flags;
  auto* report = app.add_subcommand("report", "The calibration report: routing events against sales outcomes");
  report->add_option("--config", report_flags.config_path, "a service's config: the report over its state_dir (read as a RocksDB secondary: works while it runs)");
  report->add_option("--model", report_flags.model_path, "model YAML (with --input: a replay)");
  report->add_option("--input", report_flags.input, "JSON lines of leadscore.v1.Input, outcomes included ('-' for stdin)");
  report->add_option("--json", report_flags.json_path, "write the report as JSON");
  report->add_option("--html", report_flags.html_path, "write the report as one self-contained HTML page");
  report->add_option("--suggest", report_flags.suggest_path, "write a draft model fitted to the outcomes");
  std::string baseline_path, html_path, json_path;
  int64_t backtest_until = 0;
  auto* backtest = app.add_subcommand("backtest", "The same history through a draft model and a baseline, compared");
  backtest->add_option("--model", model_path, "the draft model YAML")->required();
  backtest->add_option("--baseline", baseline_path, "the model to compare with (default: the draft itself)");
  backtest->add_option("--input", input, "JSON lines of leadscore.v1.Input (e.g. from `leadscore export`)")->required();
  auto* backtest_until_opt =
      backtest->add_option("--until", backtest_until, "decay on to this time (Unix ms) after the last record");
  backtest->add_option("--html", html_path, "write a self-contained HTML page here");
  backtest->add_option("--json", json_path, "write the result as JSON here");

  leadscore::cli::ExportOptions export_options;
  std::string export_output;
  int64_t export_from_time = 0;
  auto* export_cmd = app.add_subcommand("export", "Any leadscore topic as JSON lines (replay, backtest, report read them)");
  export_cmd->add_option("--brokers", export_options.brokers, "host:port,...")->required();
  export_cmd->add_option("--topic", export_options.topic, "the topic: inputs, routing events or dead letters")->required();
  bool export_from_beginning = false, export_until_end = true;
  auto* from_beginning = export_cmd->add_flag("--from-beginning", export_from_beginning,
                                              "from the first record the topic retains (the default)");
  auto* from_time = export_cmd->add_option("--from-time", export_from_time,
                                           "only records whose Kafka timestamp is at or after this (Unix ms)");
  from_time->excludes(from_beginning);
  export_cmd->add_option("--output", export_output, "where the JSON lines go (default stdout)");
  export_cmd->add_flag("--until-end", export_until_end,
                       "stop at the topic's end as it is at the start (the default: export is bounded)");

  leadscore::cli::RebuildFlags rebuild_flags;
  auto* rebuild = app.add_subcommand(
      "rebuild", "Re-read the inputs from their first offsets into a new state under a new model, then switch to it");
  rebuild->add_option("--config", rebuild_flags.config_path, "the service's leadscore.yaml")->required();
  rebuild->add_option("--model", rebuild_flags.model_path, "the new model YAML")->required();
  rebuild->add_flag("--switch", rebuild_flags.switch_only,
                    "only switch to a rebuild already finished (after stopping the service that held the state)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // Usage errors exit 2 (SPEC section 4), whichever code CLI11 would give them.
    return UsageError(app, e);
  }

  if (*demo) return leadscore::cli::RunDemo(demo_flags);
  if (*generate && *gen_output_opt) {
    std::ofstream file;
    if (gen_output != "-") file.open(gen_output);
    auto written = leadscore::cli::WriteMarketJsonl(
        {.accounts = static_cast<uint32_t>(gen_flags.accounts), .seed = gen_flags.seed, .weeks = gen_weeks,
         .buying_share = gen_buying_share},
        gen_output == "-" ? std::cout : file);
    if (!written.ok()) std::cerr << gen_output << ": " << written.status().message() << "\n";
    return written.ok() ? 0 : 1;
  }
  if (*generate && !*gen_brokers) {
    std::cerr << "generate needs --brokers (or --output)\nRun with --help for more information.\n";
    return 2;
  }
  if (*generate) return leadscore::cli::RunGenerate(gen_flags);

  if (*run) {
    if (*run_model_opt) run_flags.model_path = run_model;
    if (*run_brokers_opt) run_flags.brokers = run_brokers;
    if (*fixed_clock_opt) run_flags.fixed_clock = fixed_clock;
    return leadscore::cli::RunService(run_flags);
  }
  if (*broker) return leadscore::cli::RunBroker(broker_partitions, broker_topics);

  if (*backtest) {
    return Backtest(model_path, baseline_path, input,
                    *backtest_until_opt ? std::optional<int64_t>(backtest_until) : std::nullopt, html_path, json_path);
  }
  if (*export_cmd) {
    if (*from_time) export_options.from_time_ms = export_from_time;
    return Export(export_options, export_output);
  }
  if (*rebuild) return leadscore::cli::RunRebuild(rebuild_flags, std::cerr, isatty(STDERR_FILENO) == 1);
  if (*validate) return Validate(model_path);
  if (*report) return leadscore::cli::RunReport(report_flags);
  if (*replay) {
    return Replay(model_path, input, output, *until_opt ? std::optional<int64_t>(until) : std::nullopt,
                  format == "text");
  }
  return 2;
}
