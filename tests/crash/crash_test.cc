// The crash test: kill -9 at any instant loses no event and publishes no routing event
// twice, and the state after any sequence of crashes equals an uninterrupted run's.
//
// A driver, run by ctest (label "crash"): the embedded broker runs as its own process
// (`leadscore broker`); a generated market is fed in chunks; for every round a
// `leadscore run` child gets the next chunk and is killed with SIGKILL at a seeded random
// moment, either any time from its start (startup, outbox check, group join) or shortly
// after it began consuming. Then one child runs to the end, and a clean run (other group,
// state and output topic, a larger hot set) processes the same input uninterrupted.
// Both run without a clock (`run --no-clock`: stream time is the events' own)
// and one input topic (profiles and events together: the order of records across
// topics is not part of the input, within a partition it is), so both must agree
// exactly: routing_ids on the output topics (none twice, none missing, none extra) and
// every stored entity and input offset, byte for byte.
//
//   crash_test --leadscore PATH --model PATH [--kills N] [--seed S] [--accounts N]
//   LEADSCORE_CRASH_KILLS=200 overrides --kills.
#include <fcntl.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "codec/codec.h"
#include "crash/children.h"
#include "sim/market.h"
#include "store/state_store.h"
#include "stream/sink.h"
#include "stream/topic_tail.h"

namespace {

using namespace leadscore::crash;  // NOLINT: the children helpers are this driver's vocabulary
using Clock = std::chrono::steady_clock;
constexpr int kPartitions = 4;

struct Args {
  std::string leadscore, model, workdir;
  int kills = 20;
  uint64_t seed = 7;
  int accounts = 1500;
};

std::string WriteConfig(const Args& a, const std::string& name, const std::string& bootstrap, size_t cache) {
  const std::string path = a.workdir + "/" + name + ".yaml";
  std::ofstream(path) << "brokers: " << bootstrap << "\n"
                      << "group_id: " << name << "\n"
                      << "model: " << a.model << "\n"
                      << "state_dir: " << a.workdir << "/state-" << name << "\n"
                      << "state: { sync: true, cache_entities: " << cache << " }\n"
                      << "http: { address: 127.0.0.1:0 }\n"
                      << "output: { topic: routing-" << name << ", format: protobuf }\n"
                      << "batch: { max_records: 300, max_wait_ms: 20 }\n"
                      << "inputs: [ { topic: engagement-events, format: protobuf } ]\n"
                      << "max_future_skew: 60d\n"
                      << "log_level: info\n"
                      << "kafka_consumer: { session.timeout.ms: 6000, heartbeat.interval.ms: 500, "
                         "fetch.wait.max.ms: 10, group.instance.id: " << name << " }\n";
  return path;
}

int Main(const Args& a) {
  std::filesystem::remove_all(a.workdir);
  std::filesystem::create_directories(a.workdir);
  const std::string log = a.workdir + "/children.log";
  Tally tally;

  std::string bootstrap;
  const pid_t broker = StartBroker(a.leadscore, kPartitions, {"routing-crash", "routing-clean", "crash-state", "clean-state", "crash-repartition", "clean-repartition"},
                                   a.workdir + "/broker.log", &bootstrap);
  if (broker < 0) return 1;
  std::printf("broker (pid %d) at %s; %d kills, seed %llu\n", broker, bootstrap.c_str(), a.kills,
              static_cast<unsigned long long>(a.seed));

  // The input, in as many chunks as rounds.
  const std::vector<leadscore::sim::MarketRecord> input = MarketInput(a.accounts, a.seed);
  // Both runs without a clock (run --no-clock): stream time is the events' own and
  // moves with them (decay demotions happen on the way), the same in both.
  auto sink = leadscore::stream::KafkaSink::Open({bootstrap, {}});
  if (!sink.ok()) return 1;
  const size_t chunk = input.size() / static_cast<size_t>(a.kills + 1) + 1;
  size_t fed = 0;
  auto feed = [&](size_t n) {
    for (; n > 0 && fed < input.size(); --n, ++fed) {
      const auto& r = input[fed];
      if (!(*sink)->Produce("engagement-events", r.key, r.value).ok()) std::abort();
    }
    if (!(*sink)->Flush(60000).ok()) std::abort();
  };

  const std::string crash_cfg = WriteConfig(a, "crash", bootstrap, 2000);  // small hot set: eviction and reloads too
  const std::string clean_cfg = WriteConfig(a, "clean", bootstrap, 1000000);
  const std::vector<std::string> run_crash = {a.leadscore, "run", "--config", crash_cfg, "--until-caught-up",
                                              "--no-clock"};
  std::mt19937_64 rng(a.seed);
  int mid_processing = 0;
  const auto started = Clock::now();
  for (int round = 1; round <= a.kills; ++round) {
    feed(chunk);
    // Some rounds start on an empty disk: the run restores everything from the changelog
    // and may be killed while it does. (Early rounds only: the embedded broker keeps about
    // 5 MB per partition, and a changelog that lost its start cannot rebuild a state.)
    const bool wiped = round % 5 == 3 && round <= a.kills / 2;
    if (wiped) std::filesystem::remove_all(a.workdir + "/state-crash");
    const size_t log_at = std::filesystem::exists(log) ? std::filesystem::file_size(log) : 0;
    const pid_t child = Spawn(run_crash, log);
    // Half the kills at any moment of a run's life, half soon after it began consuming.
    const bool aim_at_processing = round % 2 == 0;
    int delay_ms = static_cast<int>(rng() % (aim_at_processing ? 150 : 8000));
    if (aim_at_processing) {
      const auto until = Clock::now() + std::chrono::seconds(30);
      int port = 0;
      while (Clock::now() < until && waitpid(child, nullptr, WNOHANG) == 0) {
        if (!port) port = PortFromLog(log, log_at);
        if (port && Consumed(port) > 0) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    int status = 0;
    if (waitpid(child, &status, WNOHANG) != child) {
      kill(child, SIGKILL);
      waitpid(child, &status, 0);
    }
    // It may have caught up and exited just before the kill: that is fine too.
    const bool killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
    const bool ended_itself = !killed;
    mid_processing += killed && aim_at_processing;
    const bool ok = killed || (WIFEXITED(status) && WEXITSTATUS(status) == 0);
    tally.Check(ok, "round " + std::to_string(round) + ": " +
                        (ended_itself ? "run ended by itself with status " + std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status)) : "SIGKILL after " + std::to_string(delay_ms) +
                                                                                  " ms" + (aim_at_processing ? " of consuming" : " from start")) +
                        (wiped ? ", on an empty state_dir (restoring)" : ""));
  }
  feed(input.size());
  std::printf("%zu input records fed; %d rounds in %.0f s\n", input.size(), a.kills,
              std::chrono::duration<double>(Clock::now() - started).count());

  tally.Check(WaitFor(Spawn(run_crash, log), std::chrono::seconds(600)) == 0, "the crashed service finishes the input");
  tally.Check(WaitFor(Spawn({a.leadscore, "run", "--config", clean_cfg, "--until-caught-up", "--no-clock"}, log),
                      std::chrono::seconds(600)) == 0,
              "an uninterrupted run finishes the same input");

  CompareWithUninterrupted(tally, bootstrap, "routing-clean", "routing-crash", a.workdir + "/state-clean",
                           a.workdir + "/state-crash", kPartitions, "after the crashes");
  std::printf("%d kills landed while consuming\n", mid_processing);

  return Finish("crash", tally, broker, a.workdir);
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  a.workdir = std::filesystem::temp_directory_path().string() + "/leadscore-crash-" + std::to_string(getpid());
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--leadscore") a.leadscore = v;
    else if (k == "--model") a.model = v;
    else if (k == "--kills") a.kills = std::atoi(v.c_str());
    else if (k == "--seed") a.seed = std::strtoull(v.c_str(), nullptr, 10);
    else if (k == "--accounts") a.accounts = std::atoi(v.c_str());
    else if (k == "--workdir") a.workdir = v;
    else {
      std::fprintf(stderr, "usage: crash_test --leadscore PATH --model PATH [--kills N] [--seed S] [--accounts N]\n");
      return 2;
    }
  }
  // The configs written below live in the workdir, and leadscore resolves relative paths
  // in a config against the config's directory.
  if (!a.model.empty()) a.model = std::filesystem::absolute(a.model).string();
  a.workdir = std::filesystem::absolute(a.workdir).string();
  if (const char* env = std::getenv("LEADSCORE_CRASH_KILLS")) a.kills = std::atoi(env);
  if (a.leadscore.empty() || a.model.empty() || a.kills < 1) {
    std::fprintf(stderr, "usage: crash_test --leadscore PATH --model PATH [--kills N] [--seed S] [--accounts N]\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  return Main(a);
}
