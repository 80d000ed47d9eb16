#include "cli/service_commands.h"

#include <spdlog/spdlog.h>

#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>

#include "cli/hangup.h"
#include "cli/process.h"
#include "config/config.h"
#include "logging/logging.h"
#include "model/model.h"
#include "server/http_server.h"
#include "stream/embedded_broker.h"
#include "stream/service.h"

namespace leadscore::cli {

namespace {

// The service a SIGHUP reloads the model of: set once it runs, cleared before it goes.
struct Reloadable {
  std::mutex mu;
  stream::Service* service = nullptr;
};

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// SIGHUP (SPEC section 3): `--model` read again. An invalid model is refused with a log
// line per problem and the running one stays; a valid one is handed to the service,
// which re-evaluates its partitions one at a time.
void ReloadModel(Reloadable& target, const std::string& path) {
  logging::ScopedFields fields({{"event", std::string("model_reload")}, {"path", path}});
  // Read once: the text GET /v1/model shows is the text that was loaded.
  std::ifstream probe(path);
  if (!probe) {
    spdlog::error("SIGHUP: cannot open model file '{}'; the running model stays", path);
    return;
  }
  const std::string text = ReadText(path);
  auto loaded = model::LoadModelFromString(text);
  if (!loaded.ok()) {
    for (const auto& p : loaded.problems) spdlog::error("SIGHUP: {}:{}: {}", path, p.line, p.message);
    spdlog::error("SIGHUP: {}: model refused ({} problem(s)); the running model stays", path, loaded.problems.size());
    return;
  }
  for (const auto& w : loaded.warnings) spdlog::warn("SIGHUP: {}:{}: {}", path, w.line, w.message);
  std::lock_guard lock(target.mu);
  if (!target.service) {
    spdlog::warn("SIGHUP: the service is not running yet; the model is read when it starts");
    return;
  }
  const std::string running = target.service->model_version();
  if (running == loaded.model->version) {
    spdlog::info("SIGHUP: {}: model {} is the one running; nothing to change", path, running);
    return;
  }
  Status changed = target.service->ChangeModel(loaded.model, text);
  if (!changed.ok()) spdlog::error("SIGHUP: model {} not applied: {}", loaded.model->version, changed.message());
}

}  // namespace

int RunService(const RunFlags& flags) {
  auto cfg = config::LoadConfigFromFile(flags.config_path);
  if (!cfg.ok()) {
    std::cerr << cfg.status().message() << "\n";
    return 1;  // an invalid config, not a usage error (SPEC section 4)
  }
  config::Config c = std::move(*cfg);
  logging::Setup(c.log_format, spdlog::level::from_str(c.log_level));
  if (flags.model_path) c.model_path = *flags.model_path;
  if (flags.brokers) c.service.brokers = *flags.brokers;
  if (c.model_path.empty()) {
    std::cerr << "no model: give --model or `model:` in " << flags.config_path << "\n";
    return 2;
  }
  auto loaded = model::LoadModelFromFile(c.model_path);
  if (!loaded.ok()) {
    std::cerr << c.model_path << ": model refused:\n" << loaded.ErrorText();
    return 1;
  }
  for (const auto& w : loaded.warnings) spdlog::warn("model: line {}: {}", w.line, w.message);
  c.service.model_yaml = ReadText(c.model_path);
  // SIGHUP re-reads the model (SPEC section 3); installed first, so that it never ends
  // the process (its default action).
  Reloadable reloadable;
  auto hangup = HangupWatcher::Install([&reloadable, path = c.model_path] { ReloadModel(reloadable, path); });
  if (!hangup.ok()) {
    std::cerr << hangup.status().message() << "\n";
    return 1;
  }

  std::unique_ptr<stream::EmbeddedBroker> broker;
  if (flags.embedded_broker) {
    auto b = stream::EmbeddedBroker::Start(
        {.brokers = 1, .partitions = c.embedded_partitions, .topics = TopicsOf(c.service)});
    if (!b.ok()) {
      std::cerr << b.status().message() << "\n";
      return 1;
    }
    broker = std::move(*b);
    c.service.brokers = broker->bootstrap();
    std::printf("bootstrap: %s\n", broker->bootstrap().c_str());
    std::fflush(stdout);
  }
  if (c.service.brokers.empty()) {
    std::cerr << "no brokers: give --brokers, `brokers:` in the config, or --embedded-broker\n";
    return 2;
  }
  InstallStopHandlers();
  stream::Service::Clock clock = WallClockMs;
  if (flags.fixed_clock) clock = [at = *flags.fixed_clock] { return at; };
  if (flags.no_clock) clock = nullptr;
  auto service = stream::Service::Start(loaded.model, c.service, clock);
  if (!service.ok()) {
    std::cerr << service.status().message() << "\n";
    return 1;
  }
  auto http = server::HttpServer::Start(c.http, service->get());
  if (!http.ok()) {
    std::cerr << http.status().message() << "\n";
    return 1;
  }
  spdlog::info("leadscore running: brokers={} group={} model={} http=port {} state={}", c.service.brokers,
               c.service.group_id, loaded.model->version, (*http)->port(),
               c.service.store.dir.empty() ? "memory" : c.service.store.dir);
  {
    std::lock_guard lock(reloadable.mu);
    reloadable.service = service->get();
  }
  Status st = (*service)->Run(g_stop_requested, flags.until_caught_up);
  const auto& n = (*service)->counters();
  spdlog::info("stopped: consumed={} processed={} skipped={} dead_letters={} routed={}", n.consumed.load(),
               n.processed.load(), n.skipped.load(), n.dead_letters.load(), n.routed.load());
  if (!st.ok() && flags.stay_up_on_failure && !flags.until_caught_up) {
    // Asked to stay up, not ready and not healthy, so that its views and metrics can be
    // read; a liveness probe restarts it.
    spdlog::error("not consuming: /healthz and /readyz answer 503 until the process is stopped");
    while (!g_stop_requested.load()) pause();
  } else if (!st.ok()) {
    // Exit, so that any supervisor (systemd Restart=on-failure, a container restart
    // policy, Kubernetes) starts it again. Nothing is lost: what was not committed is
    // read again by the next run.
    spdlog::error("processing stopped for good: exiting with status 1");
  }
  {
    std::lock_guard lock(reloadable.mu);
    reloadable.service = nullptr;
  }
  return st.ok() ? 0 : 1;
}

int RunBroker(int partitions, const std::vector<std::string>& extra_topics) {
  std::vector<std::string> topics = TopicsOf(stream::ServiceOptions{});
  topics.insert(topics.end(), extra_topics.begin(), extra_topics.end());
  auto b = stream::EmbeddedBroker::Start({.brokers = 1, .partitions = partitions, .topics = topics});
  if (!b.ok()) {
    std::cerr << b.status().message() << "\n";
    return 1;
  }
  std::printf("bootstrap: %s\n", (*b)->bootstrap().c_str());
  std::fflush(stdout);
  // Wait for SIGTERM/SIGINT without polling: block them and take them synchronously.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  int sig = 0;
  sigwait(&set, &sig);
  return 0;
}

}  // namespace leadscore::cli
