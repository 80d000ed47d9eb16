#include "cli/demo.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <map>

#include "cli/load_generator.h"
#include "cli/process.h"
#include "cli/replay.h"
#include "codec/codec.h"
#include "model/model.h"
#include "server/http_server.h"
#include "sim/market.h"
#include "stream/embedded_broker.h"
#include "stream/service.h"
#include "stream/sink.h"
#include "stream/topic_tail.h"

namespace leadscore::cli {
namespace {

constexpr int64_t kHour = 3600 * 1000, kDay = 24 * kHour;
}  // namespace

int RunDemo(const DemoFlags& flags) {
  spdlog::set_level(spdlog::level::warn);
  auto loaded = model::LoadModelFromFile(flags.model_path);
  if (!loaded.ok()) {
    std::cerr << flags.model_path << ": model refused:\n" << loaded.ErrorText();
    return 1;
  }
  auto broker = stream::EmbeddedBroker::Start({.brokers = 1, .partitions = 4, .topics = TopicsOf(stream::ServiceOptions{})});
  if (!broker.ok()) {
    std::cerr << broker.status().message() << "\n";
    return 1;
  }
  const std::string bootstrap = (*broker)->bootstrap();

  // The market plays out over `weeks` of simulated time ending now; the service's
  // clock is the simulated clock, so decay and SLAs run in simulated time too.
  const int64_t end = WallClockMs() / kHour * kHour;
  const int64_t start = end - flags.weeks * 7 * kDay;
  std::atomic<int64_t> sim_now{start};
  stream::ServiceOptions o;
  o.brokers = bootstrap;
  o.group_id = "leadscore-demo";
  o.max_wait_ms = 10;
  // Lock-step needs low latency more than big fetches.
  o.kafka_consumer = {{"session.timeout.ms", "6000"}, {"heartbeat.interval.ms", "500"}, {"fetch.wait.max.ms", "5"}};
  o.kafka_producer = {{"linger.ms", "1"}};
  auto service = stream::Service::Start(loaded.model, o, [&sim_now] { return sim_now.load(); });
  if (!service.ok()) {
    std::cerr << service.status().message() << "\n";
    return 1;
  }
  auto http = server::HttpServer::Start("127.0.0.1:0", service->get());
  auto sink = stream::KafkaSink::Open({bootstrap, {{"linger.ms", "1"}}});
  auto tail = stream::TopicTail::Open(bootstrap, "routing-events");
  if (!http.ok() || !sink.ok() || !tail.ok()) {
    std::cerr << "demo: could not start its parts\n";
    return 1;
  }
  sim::Market market({.accounts = static_cast<uint32_t>(std::max(1, flags.accounts)), .seed = flags.seed});
  market.PlaceBuyers(start + 3 * kDay, (flags.weeks * 7 - 24) * kDay);
  std::printf("leadscore demo: embedded Kafka broker at %s (kcat -b %s -L), HTTP at http://127.0.0.1:%d\n",
              bootstrap.c_str(), bootstrap.c_str(), (*http)->port());
  std::printf("market: %u accounts, %u leads, %u of them buying, %u with a mail scanner that clicks every link; "
              "%d simulated weeks; model %s\n\n",
              market.accounts(), market.leads(), market.buying_accounts(), market.scanner_accounts(), flags.weeks,
              loaded.model->version.c_str());
  std::fflush(stdout);

  InstallStopHandlers();
  std::map<std::string, int> routed;
  uint64_t produced = 0, printed = 0;
  auto produce = [&](const std::vector<sim::MarketRecord>& records) {
    for (const auto& r : records) {
      if (!(*sink)->Produce(r.topic, r.key, r.value).ok()) return false;
      ++produced;
    }
    return (*sink)->Flush(30000).ok();
  };
  auto drain = [&](int wait_ms) {
    for (const auto& record : (*tail)->Poll(wait_ms)) {
      auto ev = codec::RoutingEventFromBinary(record.value);
      if (!ev.ok()) continue;
      std::printf("%s\n", OneLine(*ev).c_str());
      ++printed;
      ++routed[std::string(ev->entity == engine::EntityKind::kLead ? "lead " : "account ") +
               (ev->direction == engine::Direction::kUp ? "up to " : "down to ") + ev->to_tier];
    }
    std::fflush(stdout);
  };
  // Lock-step: each simulated step is produced, then processed until consumed, so
  // the clock the service sees matches the events it reads.
  auto process = [&]() -> bool {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while ((*service)->counters().consumed < produced) {
      if (!(*service)->RunOnce().ok() || std::chrono::steady_clock::now() > deadline || g_stop_requested) return false;
    }
    return true;
  };
  if (!produce(market.Profiles(start)) || !process()) {
    std::cerr << "demo: the service did not take the profiles\n";
    return 1;
  }
  const int64_t step = 6 * kHour;
  for (int64_t t = start; t < end && !g_stop_requested; t += step) {
    if (!produce(market.Events(t, t + step))) break;
    sim_now = t + step;
    if (!process()) break;
    drain(0);
  }
  // The last step's events are still held by the burst filter (for `within` of the
  // clock): a minute more ends their runs, so that every record is counted.
  if (!g_stop_requested) {
    sim_now = sim_now.load() + 60 * 1000;
    for (int i = 0; i < 2; ++i) (void)(*service)->RunOnce();
  }
  drain(1000);
  const auto& c = (*service)->counters();
  const auto skipped = (*service)->SkippedByReason();
  uint64_t filtered = 0;
  std::string by_filter;
  for (const auto& f : loaded.model->filters) {
    const auto it = skipped.find("filter:" + f.name);
    const uint64_t n = it == skipped.end() ? 0 : it->second;
    filtered += n;
    by_filter += (by_filter.empty() ? "" : ", ") + f.name + " " + std::to_string(n);
  }
  std::printf("\nsummary: %llu records consumed, %llu processed, %llu filtered (%s), %llu dead letters, "
              "%llu routing events\n",
              static_cast<unsigned long long>(c.consumed.load()), static_cast<unsigned long long>(c.processed.load()),
              static_cast<unsigned long long>(filtered), by_filter.c_str(),
              static_cast<unsigned long long>(c.dead_letters.load()), static_cast<unsigned long long>(printed));
  for (const auto& [k, n] : routed) std::printf("  %-28s %d\n", k.c_str(), n);
  return 0;
}

int RunGenerate(const GenerateFlags& flags) {
  auto sink = stream::KafkaSink::Open({flags.brokers, {}});
  if (!sink.ok()) {
    std::cerr << sink.status().message() << "\n";
    return 1;
  }
  InstallStopHandlers();
  sim::Market market({.accounts = static_cast<uint32_t>(std::max(1, flags.accounts)), .seed = flags.seed});
  for (const auto& r : market.Profiles(WallClockMs())) {
    if (!(*sink)->Produce(r.topic, r.key, r.value).ok()) return 1;
  }
  // Real time: paced to `rate` per second against a schedule, stamped with the wall
  // clock. (Stamping the next window of simulated time instead ran ahead of the wall
  // clock by a millisecond per loop, and the market's own pace, not `rate`, set the
  // volume.)
  LoadGenerator load(&market, flags.rate, flags.count, LoadClocks::System());
  while (!g_stop_requested && !load.done()) {
    const auto events = load.Next();
    for (const auto& r : events) {
      if (!(*sink)->Produce(r.topic, r.key, r.value).ok()) return 1;
    }
    // Serves delivery reports; ahead of the schedule, waits for the next event's turn
    // (bounded, so a stop request is seen).
    const int64_t wait_us = events.empty() ? load.WaitUs() : 0;
    (*sink)->Poll(static_cast<int>(std::min<int64_t>(100, (wait_us + 999) / 1000)));
  }
  const Status flushed = (*sink)->Flush(30000);
  std::fprintf(stderr, "generate: %lld events sent\n", static_cast<long long>(load.sent()));
  return flushed.ok() ? 0 : 1;
}

}  // namespace leadscore::cli
