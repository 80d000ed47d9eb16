// What the process-level drivers (crash_test, scaleout_test) share: children started
// and waited for, their HTTP port and metrics, the routing ids on a topic, a state
// directory dumped for comparison, and a tally of checks.
#pragma once

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
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "codec/codec.h"
#include "sim/market.h"
#include "store/state_store.h"
#include "stream/topic_tail.h"

namespace leadscore::crash {

using Clock = std::chrono::steady_clock;
constexpr int64_t kDay = 24 * 3600 * 1000LL;
constexpr int64_t kOrigin = 1767225600000;  // 2026-01-01T00:00:00Z: the market's first day

inline pid_t Spawn(const std::vector<std::string>& argv, const std::string& log, int* stdout_fd = nullptr) {
  int fds[2] = {-1, -1};
  if (stdout_fd && pipe(fds) != 0) return -1;
  const pid_t pid = fork();
  if (pid == 0) {
    const int out = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(out, STDERR_FILENO);
    dup2(stdout_fd ? fds[1] : out, STDOUT_FILENO);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  if (stdout_fd) {
    close(fds[1]);
    *stdout_fd = fds[0];
  }
  return pid;
}

// Exit code, or 128 + signal; -1 if it did not end by the deadline (then it is killed).
inline int WaitFor(pid_t pid, std::chrono::seconds limit) {
  const auto until = Clock::now() + limit;
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (Clock::now() > until) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // a child's life, not a test's synchronisation
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

inline std::string ReadLine(int fd) {
  std::string line;
  char c;
  while (read(fd, &c, 1) == 1 && c != '\n') line += c;
  return line;
}

// The child's HTTP port, from its log ("http=port N"), once it is there.
inline int PortFromLog(const std::string& log, size_t from) {
  std::ifstream in(log);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto at = text.find("http=port ", from);
  return at == std::string::npos ? 0 : std::atoi(text.c_str() + at + 10);
}

inline double Consumed(int port) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(0, 200000);
  auto res = client.Get("/metrics");
  if (!res || res->status != 200) return 0;
  double sum = 0;
  for (size_t at = 0; (at = res->body.find("\nleadscore_records_consumed_total{", at)) != std::string::npos; ++at) {
    sum += std::atof(res->body.c_str() + res->body.find("} ", at) + 2);
  }
  return sum;
}

struct Tally {
  int passed = 0, failed = 0;
  void Check(bool ok, const std::string& what) {
    ok ? ++passed : ++failed;
    std::printf("%s %s\n", ok ? "ok  " : "FAIL", what.c_str());
    std::fflush(stdout);
  }
};

inline std::multiset<std::string> RoutingIds(const std::string& bootstrap, const std::string& topic) {
  std::multiset<std::string> ids;
  auto records = leadscore::stream::ReadToEnd(bootstrap, {}, topic, {}, 120000);
  if (!records.ok()) {
    std::printf("reading %s: %s\n", topic.c_str(), records.status().message().c_str());
    return ids;
  }
  for (const auto& r : *records) {
    auto ev = leadscore::codec::RoutingEventFromBinary(r.value);
    ids.insert(ev.ok() ? ev->routing_id : "<undecodable>");
  }
  return ids;
}

using StateDump = std::map<std::string, std::string>;  // "p/kind/id" -> due + bytes, and offsets

inline StateDump Dump(const std::string& dir, int partitions) {
  StateDump out;
  auto store = leadscore::store::StateStore::Open({.dir = dir});
  if (!store.ok()) {
    std::printf("open %s: %s\n", dir.c_str(), store.status().message().c_str());
    return out;
  }
  for (int p = 0; p < partitions; ++p) {
    (void)(*store)->ForEachEntity(p, [&](leadscore::engine::EntityKind kind, std::string_view id,
                                         const leadscore::store::StoredEntity& e) {
      out[std::to_string(p) + (kind == leadscore::engine::EntityKind::kLead ? "/L/" : "/A/") + std::string(id)] =
          std::to_string(e.due_ms) + ":" + e.bytes;
    });
    auto meta = (*store)->Load(p);
    if (!meta.ok()) continue;
    for (const auto& [topic, offset] : meta->offsets) {
      // The repartition topic is each group's own, and a handoff sent again after a
      // kill lands there twice (applied once): its offsets are not the outcome.
      if (topic.ends_with("-repartition")) continue;
      out[std::to_string(p) + "/O/" + topic] = std::to_string(offset);
    }
    out[std::to_string(p) + "/outbox"] = std::to_string(meta->outbox.size());
  }
  return out;
}

// `leadscore broker` as its own process, creating `topics` besides the service's
// defaults; its address in *bootstrap. -1 (the reason printed) if it did not start.
inline pid_t StartBroker(const std::string& leadscore, int partitions, const std::vector<std::string>& topics,
                         const std::string& log, std::string* bootstrap) {
  std::vector<std::string> argv = {leadscore, "broker", "--partitions", std::to_string(partitions)};
  for (const auto& t : topics) argv.insert(argv.end(), {"--topic", t});
  int out = -1;
  const pid_t broker = Spawn(argv, log, &out);
  const std::string line = ReadLine(out);
  if (line.rfind("bootstrap: ", 0) != 0) {
    std::printf("the broker did not start: '%s'\n", line.c_str());
    kill(broker, SIGKILL);
    return -1;
  }
  *bootstrap = line.substr(11);
  return broker;
}

// The drivers' input: profiles, then four weeks of a market whose buyers ramp up over
// three weeks from a start in the second week (at the end most are at their peak, so
// tiers move).
inline std::vector<sim::MarketRecord> MarketInput(int accounts, uint64_t seed) {
  sim::Market market({.accounts = static_cast<uint32_t>(std::max(1, accounts)), .seed = seed, .buying_share = 0.25,
                      .noise_events_per_day = 1});
  market.PlaceBuyers(kOrigin + 7 * kDay, 7 * kDay);
  std::vector<sim::MarketRecord> input = market.Profiles(kOrigin);
  for (auto& r : market.Events(kOrigin, kOrigin + 28 * kDay)) input.push_back(std::move(r));
  return input;
}

// A driver's end: the broker stopped, "NAME: N passed, N failed", the workdir removed
// when everything passed; the exit code.
inline int Finish(const char* name, const Tally& tally, pid_t broker, const std::string& workdir) {
  kill(broker, SIGTERM);
  WaitFor(broker, std::chrono::seconds(30));
  std::printf("%s: %d passed, %d failed\n", name, tally.passed, tally.failed);
  if (tally.failed == 0) std::filesystem::remove_all(workdir);
  return tally.failed == 0 ? 0 : 1;
}

// The routing ids on `other_topic` against an uninterrupted run's on `clean_topic` (none
// twice, none missing, none extra), and every stored entity and input offset of the
// two state directories, byte for byte.
inline void CompareWithUninterrupted(Tally& tally, const std::string& bootstrap, const std::string& clean_topic,
                                     const std::string& other_topic, const std::string& clean_dir,
                                     const std::string& other_dir, int partitions, const std::string& what) {
  const auto clean = RoutingIds(bootstrap, clean_topic), crashed = RoutingIds(bootstrap, other_topic);
  const std::set<std::string> clean_set(clean.begin(), clean.end()), crashed_set(crashed.begin(), crashed.end());
  size_t missing = 0, extra = 0;
  for (const auto& id : clean_set) missing += !crashed_set.count(id);
  for (const auto& id : crashed_set) extra += !clean_set.count(id);
  tally.Check(!clean.empty(), "the input routes something: " + std::to_string(clean.size()) + " routing events");
  tally.Check(clean.size() == clean_set.size(), "no routing_id twice in the clean run");
  tally.Check(crashed.size() == crashed_set.size(),
              "no routing_id twice " + what + " (" + std::to_string(crashed.size() - crashed_set.size()) + " duplicates)");
  tally.Check(missing == 0, "no routing event missing " + what + " (" + std::to_string(missing) + " missing)");
  tally.Check(extra == 0, "no routing event the clean run does not have (" + std::to_string(extra) + " extra)");

  const StateDump a_state = Dump(clean_dir, partitions), b_state = Dump(other_dir, partitions);
  size_t differ = 0;
  for (const auto& [k, v] : a_state) {
    auto it = b_state.find(k);
    if (it == b_state.end() || it->second != v) {
      if (++differ <= 5) {
        const std::string& other = it == b_state.end() ? std::string("<none>") : it->second;
        const auto colon_a = v.find(':'), colon_b = other.find(':');
        std::printf("  state differs at %s: due %s vs %s, snapshot %s\n", k.c_str(), v.substr(0, colon_a).c_str(),
                    other.substr(0, colon_b).c_str(),
                    colon_b != std::string::npos && v.substr(colon_a) == other.substr(colon_b) ? "equal" : "differs");
        size_t i = 0;
        while (i < v.size() && i < other.size() && v[i] == other[i]) ++i;
        std::printf("    sizes %zu vs %zu, first difference at byte %zu\n", v.size(), other.size(), i);
      }
    }
  }
  for (const auto& [k, v] : b_state) differ += !a_state.count(k);
  tally.Check(!a_state.empty() && differ == 0, "final state equals the uninterrupted run's (" +
                                                   std::to_string(a_state.size()) + " keys, " + std::to_string(differ) +
                                                   " differ)");
}

}  // namespace leadscore::crash
