// The leadscore binary as its own process, against the embedded broker: what only a
// whole process shows (its signals, its pacing over real time). Every wait has a
// deadline and ends as soon as what it waits for is there.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "leadscore/v1/leadscore.pb.h"
#include "stream/sink.h"
#include "stream/topic_tail.h"

namespace leadscore {
namespace {

using std::chrono::seconds;
using ::testing::HasSubstr;

const std::string kBinary = LEADSCORE_BINARY;
const std::string kSourceDir = LEADSCORE_SOURCE_DIR;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A child process whose stdout and stderr are read on threads as they come.
class Child {
 public:
  explicit Child(const std::vector<std::string>& argv) {
    int out[2], err[2];
    if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out[1], STDOUT_FILENO);
      dup2(err[1], STDERR_FILENO);
      std::vector<char*> args;
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      execv(args[0], args.data());
      _exit(127);
    }
    close(out[1]);
    close(err[1]);
    readers_[0] = std::thread([this, fd = out[0]] { Read(fd, 0); });
    readers_[1] = std::thread([this, fd = err[0]] { Read(fd, 1); });
  }
  ~Child() {
    if (pid_ > 0 && !exited_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    for (auto& t : readers_) {
      if (t.joinable()) t.join();
    }
  }
  bool started() const { return pid_ > 0; }
  void Signal(int sig) { kill(pid_, sig); }

  // Waits until `text` is on stdout (or stderr); what follows it up to the line's end.
  std::optional<std::string> WaitFor(const std::string& text, seconds limit, bool on_stderr = false) {
    std::unique_lock lock(mu_);
    const std::string& buf = output_[on_stderr ? 1 : 0];
    size_t at = std::string::npos;
    auto found = [&] {
      at = buf.find(text);
      return at != std::string::npos && buf.find('\n', at) != std::string::npos;
    };
    if (!cv_.wait_for(lock, limit, found)) return std::nullopt;
    const size_t from = at + text.size();
    return buf.substr(from, buf.find('\n', at) - from);
  }
  // Waits for any new output, at most `limit`.
  void WaitForMore(std::chrono::milliseconds limit) {
    std::unique_lock lock(mu_);
    const size_t seen = output_[0].size() + output_[1].size();
    cv_.wait_for(lock, limit, [&] { return output_[0].size() + output_[1].size() != seen || eof_ == 2; });
  }
  std::string Stderr() {
    std::lock_guard lock(mu_);
    return output_[1];
  }
  // The exit code (128 + signal when killed by one), or nothing if it did not end in
  // time. Its pipes close when it ends, so no polling is needed.
  std::optional<int> WaitExit(seconds limit) {
    {
      std::unique_lock lock(mu_);
      if (!cv_.wait_for(lock, limit, [&] { return eof_ == 2; })) return std::nullopt;
    }
    int status = 0;
    waitpid(pid_, &status, 0);
    exited_ = true;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  bool Running() { return waitpid(pid_, nullptr, WNOHANG) == 0; }

 private:
  void Read(int fd, int which) {
    char buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR)) {
      if (n <= 0) continue;
      std::lock_guard lock(mu_);
      output_[which].append(buf, static_cast<size_t>(n));
      cv_.notify_all();
    }
    close(fd);
    std::lock_guard lock(mu_);
    ++eof_;
    cv_.notify_all();
  }

  pid_t pid_ = -1;
  bool exited_ = false;
  std::thread readers_[2];
  std::mutex mu_;
  std::condition_variable cv_;
  std::string output_[2];
  int eof_ = 0;
};

TEST(GenerateProcessTest, HoldsItsCountAndNoEventIsAheadOfTheClock) {
  Child broker({kBinary, "broker", "--partitions", "2"});
  ASSERT_TRUE(broker.started());
  const auto bootstrap = broker.WaitFor("bootstrap: ", seconds(60));
  ASSERT_TRUE(bootstrap) << broker.Stderr();

  const int64_t before = NowMs();
  Child gen({kBinary, "generate", "--brokers", *bootstrap, "--rate", "2000", "--count", "4000", "--accounts", "300"});
  const auto code = gen.WaitExit(seconds(120));
  ASSERT_TRUE(code) << "generate did not end: " << gen.Stderr();
  EXPECT_EQ(*code, 0) << gen.Stderr();
  EXPECT_THAT(gen.Stderr(), HasSubstr("generate: 4000 events sent"));

  auto records = stream::ReadToEnd(*bootstrap, {}, "engagement-events", {}, 30000);
  const int64_t read_at = NowMs();
  ASSERT_TRUE(records.ok()) << records.status().message();
  EXPECT_EQ(records->size(), 4000u);
  int64_t ahead = 0, behind = 0;
  for (const auto& r : *records) {
    v1::Input in;
    ASSERT_TRUE(in.ParseFromString(r.value));
    ASSERT_TRUE(in.has_event());
    if (in.event().occurred_at_ms() > read_at) ++ahead;
    if (in.event().occurred_at_ms() < before) ++behind;
  }
  EXPECT_EQ(ahead, 0) << "events stamped after the time they were read";
  EXPECT_EQ(behind, 0) << "events stamped before generate started";
}

// SIGHUP re-reads --model: an invalid one is refused with a line per problem and the
// running one stays; a valid one becomes the running model (GET /v1/model, the metric).
TEST(RunProcessTest, SighupReloadsTheModelAndRefusesAnInvalidOneWithEveryProblem) {
  const std::string dir = ::testing::TempDir() + "/leadscore-sighup-" + std::to_string(getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string config = dir + "/leadscore.yaml";
  std::ofstream(config) << "state_dir: " << dir << "/state\n"
                        << "http: { address: \"127.0.0.1:0\" }\n"
                        << "kafka_consumer: { session.timeout.ms: 6000, heartbeat.interval.ms: 500 }\n"
                        << "log_level: info\n";
  const std::string model_path = dir + "/model.yaml";
  std::string example;
  {
    std::ifstream in(kSourceDir + "/examples/model.yaml");
    example.assign(std::istreambuf_iterator<char>(in), {});
  }
  std::ofstream(model_path) << example;
  Child run({kBinary, "run", "--config", config, "--model", model_path, "--embedded-broker"});
  ASSERT_TRUE(run.started());
  const auto port_text = run.WaitFor("http=port ", seconds(60), /*on_stderr=*/true);
  ASSERT_TRUE(port_text) << run.Stderr();
  httplib::Client client("127.0.0.1", std::atoi(port_text->c_str()));
  client.set_connection_timeout(seconds(5));
  client.set_read_timeout(seconds(5));

  // Ready: partitions assigned and state restored. Between tries, wait for the child to
  // say something new (at most a fifth of a second).
  const auto until = std::chrono::steady_clock::now() + seconds(60);
  bool ready = false;
  while (!ready && std::chrono::steady_clock::now() < until) {
    auto res = client.Get("/readyz");
    ready = res && res->status == 200;
    if (!ready) run.WaitForMore(std::chrono::milliseconds(200));
  }
  ASSERT_TRUE(ready) << run.Stderr();

  auto version = [&] {
    auto res = client.Get("/v1/model?format=yaml");
    return res && res->status == 200 ? res->get_header_value("X-Model-Version") : std::string("(no answer)");
  };
  const std::string first = version();
  ASSERT_THAT(first, HasSubstr("example-2026-11+"));

  // Two problems: both logged with their lines; the running model stays.
  std::string broken = example;
  broken.replace(broken.find("cap: 9"), 6, "cap: -9");
  broken.replace(broken.find("half_life: 21d"), 14, "half_life: -21d");
  std::ofstream(model_path, std::ios::trunc) << broken;
  run.Signal(SIGHUP);
  ASSERT_TRUE(run.WaitFor("model refused (2 problem(s)); the running model stays", seconds(30), true)) << run.Stderr();
  EXPECT_THAT(run.Stderr(), HasSubstr(model_path + ":"));
  ASSERT_TRUE(run.Running()) << "SIGHUP ended the process: " << run.Stderr();
  EXPECT_EQ(version(), first);

  std::string changed = example;
  changed.replace(changed.find("version: \"example-2026-11\""), 26, "version: \"example-2026-12\"");
  std::ofstream(model_path, std::ios::trunc) << changed;
  run.Signal(SIGHUP);
  ASSERT_TRUE(run.WaitFor("model change done: every assigned partition runs model example-2026-12+", seconds(60), true))
      << run.Stderr();
  EXPECT_THAT(version(), HasSubstr("example-2026-12+"));
  auto metrics = client.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_THAT(metrics->body, HasSubstr("leadscore_model_info{model_version=\"" + version() + "\"} 1"));
  EXPECT_THAT(metrics->body, HasSubstr("leadscore_model_reevaluation_pending_partitions 0"));
  auto health = client.Get("/healthz");
  ASSERT_TRUE(health) << httplib::to_string(health.error());
  EXPECT_EQ(health->status, 200);

  run.Signal(SIGTERM);
  const auto code = run.WaitExit(seconds(60));
  ASSERT_TRUE(code) << "did not stop on SIGTERM: " << run.Stderr();
  EXPECT_EQ(*code, 0) << run.Stderr();
  std::filesystem::remove_all(dir);
}

// `leadscore run` on the embedded broker, made to fail for good on its first record: the
// producer refuses messages over 1000 bytes (message.max.bytes), and the record, 5000
// bytes that do not parse, is a dead letter the DLQ cannot take, so its batch cannot be
// committed.
class RunFailureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/leadscore-fatal-" + std::to_string(getpid()) + "-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    config_ = dir_ + "/leadscore.yaml";
    std::ofstream(config_) << "state_dir: " << dir_ << "/state\n"
                           << "http: { address: \"127.0.0.1:0\" }\n"
                           << "kafka_consumer: { session.timeout.ms: 6000, heartbeat.interval.ms: 500 }\n"
                           << "kafka_producer: { message.max.bytes: 1000 }\n";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::vector<std::string> RunArgs() const {
    return {kBinary, "run", "--config", config_, "--model", kSourceDir + "/examples/model.yaml", "--embedded-broker"};
  }
  // Waits for the bootstrap line and sends the record that cannot be dead-lettered.
  void SendPoison(Child& run) {
    const auto bootstrap = run.WaitFor("bootstrap: ", seconds(60));
    ASSERT_TRUE(bootstrap) << run.Stderr();
    auto sink = stream::KafkaSink::Open({*bootstrap, {}});
    ASSERT_TRUE(sink.ok()) << sink.status().message();
    ASSERT_TRUE((*sink)->Produce("engagement-events", "a1", std::string(5000, '\xff')).ok());
    ASSERT_TRUE((*sink)->Flush(30000).ok());
  }

  std::string dir_, config_;
};

TEST_F(RunFailureTest, AFatalFailureEndsTheProcessWithStatus1SoItsSupervisorRestartsIt) {
  Child run(RunArgs());
  ASSERT_TRUE(run.started());
  SendPoison(run);
  const auto code = run.WaitExit(seconds(90));
  ASSERT_TRUE(code) << "still running after processing stopped: " << run.Stderr();
  EXPECT_EQ(*code, 1) << run.Stderr();
  EXPECT_THAT(run.Stderr(), HasSubstr("processing stopped, consuming no more"));
  EXPECT_THAT(run.Stderr(), HasSubstr("exiting with status 1"));
}

TEST_F(RunFailureTest, StayUpOnFailureKeepsItUpAnswering503UntilStopped) {
  auto args = RunArgs();
  args.push_back("--stay-up-on-failure");
  Child run(args);
  ASSERT_TRUE(run.started());
  SendPoison(run);
  ASSERT_TRUE(run.WaitFor("not consuming: /healthz and /readyz answer 503", seconds(90), true)) << run.Stderr();
  const auto port_text = run.WaitFor("http=port ", seconds(5), /*on_stderr=*/true);
  ASSERT_TRUE(port_text) << run.Stderr();
  httplib::Client client("127.0.0.1", std::atoi(port_text->c_str()));
  client.set_connection_timeout(seconds(5));
  client.set_read_timeout(seconds(5));
  auto health = client.Get("/healthz");
  ASSERT_TRUE(health) << httplib::to_string(health.error());
  EXPECT_EQ(health->status, 503);
  EXPECT_EQ(client.Get("/readyz")->status, 503);
  ASSERT_TRUE(run.Running());

  run.Signal(SIGTERM);
  const auto code = run.WaitExit(seconds(60));
  ASSERT_TRUE(code) << "did not stop on SIGTERM: " << run.Stderr();
  EXPECT_EQ(*code, 1) << "it stopped after a failure";
}

}  // namespace
}  // namespace leadscore
