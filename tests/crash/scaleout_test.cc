// The scale-out test: three instances of one group share the partitions, state follows
// each partition through the changelog, and whatever the sequence of joins, leaves,
// kills and moves, the output equals one instance processing the same input alone.
//
// A driver, run by ctest (label "crash"): the embedded broker as its own process; a
// generated market fed in four parts while instances come and go:
//   A alone -> B joins (partitions move to B's empty disk) -> C joins -> B killed -9 ->
//   B back on an empty state_dir (restores everything) -> A leaves -> A back with the
//   stale state it had (caught up, never used as it was; A is also a standby for the
//   partitions it does not own, so it is mostly caught up already) -> C wiped, killed while it
//   restores, started again (restore restarted) -> all leave but A, which finishes.
// Then an uninterrupted single instance (other group, output and changelog) processes
// the same input without a clock (stream time is the records'): routing_ids equal (none twice, none missing,
// none extra) and every entity and offset of all partitions equal, byte for byte.
//
//   scaleout_test --leadscore PATH --model PATH [--seed S] [--accounts N]
#include <filesystem>
#include <random>

#include "crash/children.h"
#include "sim/market.h"
#include "stream/sink.h"

namespace {

using namespace leadscore::crash;  // NOLINT: the children helpers are this driver's vocabulary
constexpr int kPartitions = 4;

struct Args {
  std::string leadscore, model, workdir;
  uint64_t seed = 11;
  int accounts = 600;
};

// An instance of group `group` with its own state dir and log.
struct Instance {
  std::string name, config, log;
  pid_t pid = -1;
  size_t log_at = 0;
};

// `standby`: it follows the partitions it does not own (standby_replicas).
Instance Configure(const Args& a, const std::string& group, const std::string& name, const std::string& bootstrap,
                   bool standby = false) {
  Instance i;
  i.name = name;
  i.config = a.workdir + "/" + name + ".yaml";
  i.log = a.workdir + "/" + name + ".log";
  std::ofstream(i.config) << "brokers: " << bootstrap << "\n"
                          << "group_id: " << group << "\n"
                          << "model: " << a.model << "\n"
                          << "state_dir: " << a.workdir << "/state-" << name << "\n"
                          << "state: { sync: true, cache_entities: 2000, standby_replicas: " << (standby ? 1 : 0) << " }\n"
                          << "http: { address: 127.0.0.1:0 }\n"
                          << "output: { topic: routing-" << group << ", format: protobuf }\n"
                          << "batch: { max_records: 200, max_wait_ms: 20 }\n"
                          << "inputs: [ { topic: engagement-events, format: protobuf } ]\n"
                          << "max_future_skew: 60d\n"
                          << "log_level: info\n"
                          // Short sessions: a killed member's partitions move after 3 s.
                          << "kafka_consumer: { session.timeout.ms: 3000, heartbeat.interval.ms: 300, "
                             "fetch.wait.max.ms: 10 }\n";
  return i;
}

std::string Get(int port, const std::string& path, int* status) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(0, 300000);
  client.set_read_timeout(2, 0);
  auto res = client.Get(path.c_str());
  *status = res ? res->status : 0;
  return res ? res->body : "";
}

class Driver {
 public:
  Driver(const Args& a, std::string bootstrap) : a_(a), bootstrap_(std::move(bootstrap)) {}

  void Start(Instance& i, bool until_caught_up = false) {
    i.log_at = std::filesystem::exists(i.log) ? std::filesystem::file_size(i.log) : 0;
    std::vector<std::string> argv = {a_.leadscore, "run", "--config", i.config, "--no-clock"};
    if (until_caught_up) argv.push_back("--until-caught-up");
    i.pid = Spawn(argv, i.log);
  }

  // Polls the instance (bounded) until /readyz answers 200: its partitions assigned and
  // restored. False if it died or the deadline passed.
  bool WaitReady(Instance& i, int seconds = 60) {
    const bool ready = WaitReadyQuietly(i, seconds);
    ShowRestores(i);
    return ready;
  }
  bool WaitReadyQuietly(Instance& i, int seconds) {
    const auto until = Clock::now() + std::chrono::seconds(seconds);
    int port = 0;
    while (Clock::now() < until) {
      if (waitpid(i.pid, nullptr, WNOHANG) == i.pid) return false;
      if (!port) port = PortFromLog(i.log, i.log_at);
      int status = 0;
      if (port && (Get(port, "/readyz", &status), status == 200)) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling a child, bounded
    }
    return false;
  }

  // Polls (bounded) until the instances read every record fed so far, and every lead
  // handed between partitions: the sum of their consumer lag is 0 (every partition is
  // owned by one of them once they are ready).
  bool WaitCaughtUp(const std::vector<Instance*>& instances, int seconds = 120) {
    const auto until = Clock::now() + std::chrono::seconds(seconds);
    while (Clock::now() < until) {
      double lag = 0;
      int partitions = 0;
      for (const Instance* i : instances) {
        int status = 0;
        const int port = PortFromLog(i->log, i->log_at);
        const std::string body = port ? Get(port, "/metrics", &status) : "";
        if (status != 200) {
          partitions = -1;
          break;
        }
        for (size_t at = 0; (at = body.find("\nleadscore_consumer_lag{", at)) != std::string::npos; ++at) {
          const size_t end = body.find("} ", at);
          lag += std::atof(body.c_str() + end + 2);
          // Partitions are counted on the input; the repartition topic's lag counts too.
          if (body.substr(at, end - at).find("-repartition\"") == std::string::npos) ++partitions;
        }
      }
      if (partitions == kPartitions && lag == 0) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));  // polling children, bounded
    }
    return false;
  }

  // The instance's restore lines since its start, as evidence of what each step did.
  void ShowRestores(const Instance& i) {
    std::ifstream in(i.log);
    std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (size_t at = all.find("restored from", i.log_at); at != std::string::npos; at = all.find("restored from", at + 1)) {
      const size_t begin = all.rfind("partition ", at), end = all.find('\n', at);
      std::printf("     %s: %s\n", i.name.c_str(), all.substr(begin, end - begin).c_str());
    }
  }

  // Polls (bounded) until the instance's log, since its start, says `text`.
  bool WaitLog(const Instance& i, const std::string& text, int seconds = 60) {
    const auto until = Clock::now() + std::chrono::seconds(seconds);
    while (Clock::now() < until) {
      std::ifstream in(i.log);
      std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      if (all.find(text, i.log_at) != std::string::npos) return true;
      if (waitpid(i.pid, nullptr, WNOHANG) == i.pid) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  void Kill(Instance& i) {
    kill(i.pid, SIGKILL);
    waitpid(i.pid, nullptr, 0);
    i.pid = -1;
  }
  int Stop(Instance& i) {
    kill(i.pid, SIGTERM);
    const int status = WaitFor(i.pid, std::chrono::seconds(60));
    i.pid = -1;
    return status;
  }
  void Wipe(const Instance& i) { std::filesystem::remove_all(a_.workdir + "/state-" + i.name); }

 private:
  const Args& a_;
  std::string bootstrap_;
};

int Main(const Args& a) {
  std::filesystem::remove_all(a.workdir);
  std::filesystem::create_directories(a.workdir);
  Tally tally;
  std::string bootstrap;
  const pid_t broker = StartBroker(a.leadscore, kPartitions, {"routing-scale", "scale-state", "routing-solo", "solo-state", "scale-repartition", "solo-repartition"},
                                   a.workdir + "/broker.log", &bootstrap);
  if (broker < 0) return 1;
  std::printf("broker (pid %d) at %s; seed %llu\n", broker, bootstrap.c_str(), static_cast<unsigned long long>(a.seed));

  const std::vector<leadscore::sim::MarketRecord> input = MarketInput(a.accounts, a.seed);
  auto sink = leadscore::stream::KafkaSink::Open({bootstrap, {}});
  if (!sink.ok()) return 1;
  size_t fed = 0;
  auto feed = [&](size_t upto) {
    for (; fed < std::min(upto, input.size()); ++fed) {
      if (!(*sink)->Produce("engagement-events", input[fed].key, input[fed].value).ok()) std::abort();
    }
    if (!(*sink)->Flush(60000).ok()) std::abort();
  };
  const size_t quarter = input.size() / 4 + 1;
  std::mt19937_64 rng(a.seed);
  const auto started = Clock::now();

  Driver d(a, bootstrap);
  // A is a standby for what it does not own (its takeovers restore only a tail); B and C
  // restore what they take from the changelog.
  Instance A = Configure(a, "scale", "a", bootstrap, true), B = Configure(a, "scale", "b", bootstrap),
           C = Configure(a, "scale", "c", bootstrap);
  feed(quarter);
  d.Start(A);
  tally.Check(d.WaitReady(A) && d.WaitCaughtUp({&A}), "A alone owns every partition and reads the first part");
  d.Start(B);
  tally.Check(d.WaitReady(B), "B joins: the partitions it takes restore onto its empty disk");
  feed(2 * quarter);
  d.Start(C);
  tally.Check(d.WaitReady(C), "C joins");
  tally.Check(d.WaitCaughtUp({&A, &B, &C}), "A, B and C read the second part");
  std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 150));  // the kill lands anywhere in B's work
  d.Kill(B);
  d.Wipe(B);
  d.Start(B);
  tally.Check(d.WaitReady(B), "B killed -9 and back on an empty state_dir: restored from the changelog");
  feed(3 * quarter);
  tally.Check(d.WaitCaughtUp({&A, &B, &C}), "A, B and C read the third part");
  tally.Check(d.Stop(A) == 0, "A leaves cleanly");
  d.Start(A);
  tally.Check(d.WaitReady(A), "A back with its stale local state: caught up from the changelog");
  d.Stop(C);
  d.Wipe(C);
  d.Start(C);
  const bool restoring = d.WaitLog(C, "restoring from");
  d.Kill(C);
  tally.Check(restoring, "C wiped and killed as its restore began");
  d.Start(C);
  tally.Check(d.WaitReady(C), "C restarted: its restore starts again and completes");
  feed(input.size());
  tally.Check(d.Stop(B) == 0 && d.Stop(C) == 0, "B and C leave");
  tally.Check(d.Stop(A) == 0, "A stops");
  d.Start(A, true);
  tally.Check(WaitFor(A.pid, std::chrono::seconds(300)) == 0, "A alone finishes the input");
  std::printf("%zu input records; the instances' part took %.0f s\n", input.size(),
              std::chrono::duration<double>(Clock::now() - started).count());

  Instance solo = Configure(a, "solo", "solo", bootstrap);
  d.Start(solo, true);
  tally.Check(WaitFor(solo.pid, std::chrono::seconds(300)) == 0, "one uninterrupted instance finishes the same input");
  CompareWithUninterrupted(tally, bootstrap, "routing-solo", "routing-scale", a.workdir + "/state-solo",
                           a.workdir + "/state-a", kPartitions, "across the instances");

  return Finish("scaleout", tally, broker, a.workdir);
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  a.workdir = std::filesystem::temp_directory_path().string() + "/leadscore-scaleout-" + std::to_string(getpid());
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--leadscore") a.leadscore = v;
    else if (k == "--model") a.model = std::filesystem::absolute(v).string();
    else if (k == "--seed") a.seed = std::strtoull(v.c_str(), nullptr, 10);
    else if (k == "--accounts") a.accounts = std::atoi(v.c_str());
    else if (k == "--workdir") a.workdir = v;
    else {
      std::fprintf(stderr, "usage: scaleout_test --leadscore PATH --model PATH [--seed S] [--accounts N]\n");
      return 2;
    }
  }
  a.workdir = std::filesystem::absolute(a.workdir).string();
  if (a.leadscore.empty() || a.model.empty()) {
    std::fprintf(stderr, "usage: scaleout_test --leadscore PATH --model PATH [--seed S] [--accounts N]\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  return Main(a);
}
