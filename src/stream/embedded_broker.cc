#include "stream/embedded_broker.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "stream/kafka_handle.h"

namespace leadscore::stream {

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
