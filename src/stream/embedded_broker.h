// A Kafka-protocol broker inside the process: librdkafka's mock cluster, listening on
// 127.0.0.1 over TCP, so any Kafka client (kcat included) can talk to it.
//
// Facts of the mock cluster that the service designs around (see README): it keeps
// only about 5 MB per partition (older records vanish), does not hide aborted
// transactional records and does not store offsets sent in a transaction.
// Thread-safe after Start(): the cluster runs on its own librdkafka thread.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

struct rd_kafka_s;
struct rd_kafka_mock_cluster_s;

namespace leadscore::stream {

struct EmbeddedBrokerOptions {
  int brokers = 1;
  int partitions = 4;               // for every topic created by Start()
  std::vector<std::string> topics;  // created at start
};

class EmbeddedBroker {
 public:
  static Result<std::unique_ptr<EmbeddedBroker>> Start(const EmbeddedBrokerOptions& options);
  ~EmbeddedBroker();
  EmbeddedBroker(const EmbeddedBroker&) = delete;
  EmbeddedBroker& operator=(const EmbeddedBroker&) = delete;

  // "127.0.0.1:PORT[,...]"
  const std::string& bootstrap() const { return bootstrap_; }
  Status CreateTopic(const std::string& name, int partitions);
  // Takes every broker of the cluster down (connections refused and closed) or back up:
  // an outage, for tests.
  Status SetAvailable(bool up);

 private:
  EmbeddedBroker() = default;
  rd_kafka_s* host_ = nullptr;  // the client handle the cluster lives in
  rd_kafka_mock_cluster_s* cluster_ = nullptr;
  std::string bootstrap_;
  int brokers_ = 0;
};

}  // namespace leadscore::stream
