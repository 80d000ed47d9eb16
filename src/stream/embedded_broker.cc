#include "stream/embedded_broker.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <set>
#include <sstream>

#include <spdlog/spdlog.h>

#include "stream/kafka_handle.h"

namespace leadscore::stream {
namespace {

// The mock cluster writes each response with its own send() on sockets that keep
// Nagle's algorithm. When a client has several requests in flight (an idempotent
// producer's pipelined produce requests, a fetch beside them), the second small
// response waits for the ACK of the first, and the client delays that ACK by up to
// 40 ms: measured, one changelog append in about eight took 43 ms instead of 1 ms,
// which set the latency of every commit. Linux copies TCP_NODELAY from a listening
// socket to the connections it accepts, so setting it on the cluster's listeners
// (found among this process's descriptors by their ports) before any client connects
// takes Nagle off every connection. Returns how many listeners were set.
int DisableNagleOnListeners(const std::string& bootstrap) {
  std::set<uint16_t> ports;
  std::stringstream list(bootstrap);
  for (std::string hostport; std::getline(list, hostport, ',');) {
    const auto colon = hostport.rfind(':');
    if (colon != std::string::npos) ports.insert(static_cast<uint16_t>(std::atoi(hostport.c_str() + colon + 1)));
  }
  int set = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd", ec)) {
    const int fd = std::atoi(entry.path().filename().c_str());
    struct stat st {};
    if (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) continue;
    int listening = 0;
    socklen_t len = sizeof listening;
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || !listening) continue;
    sockaddr_in addr{};
    len = sizeof addr;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0 || addr.sin_family != AF_INET) continue;
    if (!ports.count(ntohs(addr.sin_port))) continue;
    const int on = 1;
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on) == 0) ++set;
  }
  return set;
}

}  // namespace

Result<std::unique_ptr<EmbeddedBroker>> EmbeddedBroker::Start(const EmbeddedBrokerOptions& options) {
  auto conf = MakeConf({{"log_level", "3"}});
  if (!conf.ok()) return conf.status();
  char err[512];
  rd_kafka_t* host = rd_kafka_new(RD_KAFKA_PRODUCER, conf->release(), err, sizeof err);
  if (!host) return Status::Unavailable(std::string("embedded broker: ") + err);
  std::unique_ptr<EmbeddedBroker> broker(new EmbeddedBroker());
  broker->host_ = host;
  broker->cluster_ = rd_kafka_mock_cluster_new(host, options.brokers);
  if (!broker->cluster_) return Status::Unavailable("embedded broker: the mock cluster did not start");
  broker->bootstrap_ = rd_kafka_mock_cluster_bootstraps(broker->cluster_);
  broker->brokers_ = options.brokers;
  if (const int set = DisableNagleOnListeners(broker->bootstrap_); set != options.brokers) {
    spdlog::warn("embedded broker: TCP_NODELAY set on {} of {} listeners; responses may wait for delayed ACKs", set,
                 options.brokers);
  }
  for (const auto& topic : options.topics) {
    LEADSCORE_RETURN_IF_ERROR(broker->CreateTopic(topic, options.partitions));
  }
  return broker;
}

EmbeddedBroker::~EmbeddedBroker() {
  if (cluster_) rd_kafka_mock_cluster_destroy(cluster_);
  if (host_) rd_kafka_destroy(host_);
}

Status EmbeddedBroker::SetAvailable(bool up) {
  for (int id = 1; id <= brokers_; ++id) {
    LEADSCORE_RETURN_IF_ERROR(KafkaError(up ? rd_kafka_mock_broker_set_up(cluster_, id)
                                            : rd_kafka_mock_broker_set_down(cluster_, id),
                                         up ? "broker up" : "broker down"));
  }
  return Status::Ok();
}

Status EmbeddedBroker::CreateTopic(const std::string& name, int partitions) {
  return KafkaError(rd_kafka_mock_topic_create(cluster_, name.c_str(), partitions, 1), "create topic " + name);
}

}  // namespace leadscore::stream
