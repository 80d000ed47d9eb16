// RAII for librdkafka C handles, and the conversion of its errors to Status.
// Internal to src/stream/.
#pragma once

#include <librdkafka/rdkafka.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

namespace leadscore::stream {

struct KafkaDeleter {
  void operator()(rd_kafka_t* rk) const {
    if (rk) rd_kafka_destroy(rk);
  }
  void operator()(rd_kafka_conf_t* c) const {
    if (c) rd_kafka_conf_destroy(c);
  }
  void operator()(rd_kafka_topic_partition_list_t* l) const {
    if (l) rd_kafka_topic_partition_list_destroy(l);
  }
  void operator()(rd_kafka_message_t* m) const {
    if (m) rd_kafka_message_destroy(m);
  }
  void operator()(rd_kafka_headers_t* h) const {
    if (h) rd_kafka_headers_destroy(h);
  }
};
using KafkaPtr = std::unique_ptr<rd_kafka_t, KafkaDeleter>;
using ConfPtr = std::unique_ptr<rd_kafka_conf_t, KafkaDeleter>;
using PartitionListPtr = std::unique_ptr<rd_kafka_topic_partition_list_t, KafkaDeleter>;
using MessagePtr = std::unique_ptr<rd_kafka_message_t, KafkaDeleter>;

// librdkafka's log callback: its lines go through spdlog's "librdkafka" logger (see
// logging.h), so they share the service's format, with the facility and the client's
// name as fields. Called on librdkafka's threads; it only logs.
void LogKafkaLine(const rd_kafka_t* rk, int level, const char* facility, const char* line);

// Builds a configuration from properties; the first property librdkafka refuses is
// the error, with its name. The client logs through spdlog.
inline Result<ConfPtr> MakeConf(const std::map<std::string, std::string>& properties) {
  ConfPtr conf(rd_kafka_conf_new());
  rd_kafka_conf_set_log_cb(conf.get(), LogKafkaLine);
  char err[512];
  // Every client of ours sends small requests and waits for their answers (a commit
  // waits for its changelog append): Nagle's algorithm would hold a request behind
  // the ACK of the one before, as the Java client avoids by setting TCP_NODELAY
  // always. The properties given can still turn it back on.
  rd_kafka_conf_set(conf.get(), "socket.nagle.disable", "true", err, sizeof err);
  for (const auto& [k, v] : properties) {
    if (rd_kafka_conf_set(conf.get(), k.c_str(), v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
      return Status::InvalidArgument("kafka property '" + k + "': " + err);
    }
  }
  return conf;
}

inline Status KafkaError(rd_kafka_resp_err_t err, const std::string& what) {
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return Status::Ok();
  return Status::Unavailable(what + ": " + rd_kafka_err2str(err));
}

// What every consumer of ours that reads records starts from; the caller's properties
// come after it.
//
// queued.min.messages: librdkafka 2.0 (Debian 12's) stops fetching once its prefetch
// queue holds that many records, and looks again only when its broker thread next
// wakes, up to a second later (librdkafka 2.3 names that wait fetch.queue.backoff.ms).
// A consumer's partitions share one queue, so the limit counts them all. At the default
// 100 000, a service catching up on a backlog read 100 000 records, scored them in
// 0.5-0.8 s and then sat idle for the rest of the second: librdkafka's fetch log showed
// "queued.min.messages exceeded" and no fetch for 0.94 s, and the service's polls came
// back empty six to eleven times in a row (50 ms each) in the middle of a backlog. At a
// million the bound in bytes is the one met (queued.max.messages.kbytes, 64 MiB by
// default), and the same wait follows it: an estimate, not measured at that bound, is
// that 64 MiB of the benchmark's 75 B records (about 890 000) last five seconds at
// this service's rates, so the queue does not run dry during the wait; records of
// 400 B or more would fill it with about a second's worth and could meet it again.
inline void AddConsumerDefaults(std::map<std::string, std::string>& properties) {
  properties.emplace("queued.min.messages", "1000000");
}

// The value a client's property has (the defaults, then what its creator set); empty
// when librdkafka has no such property or it is unset. Any thread: a client's
// configuration does not change after it is created.
inline std::string ConfValue(const rd_kafka_t* client, const std::string& name) {
  const rd_kafka_conf_t* conf = rd_kafka_conf(const_cast<rd_kafka_t*>(client));
  size_t size = 0;  // asked first: the value's size with its terminating NUL
  if (rd_kafka_conf_get(conf, name.c_str(), nullptr, &size) != RD_KAFKA_CONF_OK || size == 0) return "";
  std::string value(size, '\0');
  if (rd_kafka_conf_get(conf, name.c_str(), value.data(), &size) != RD_KAFKA_CONF_OK) return "";
  value.resize(value.find('\0') == std::string::npos ? value.size() : value.find('\0'));
  return value;
}

// A consumer that never joins its group: partitions are assigned to it by hand (a
// restore, a standby, a topic read to its end). The consumer defaults, `kafka`'s
// properties, then `overrides`.
inline Result<KafkaPtr> HandAssignedConsumer(const std::string& brokers, const std::string& group_id,
                                             std::map<std::string, std::string> kafka,
                                             const std::map<std::string, std::string>& overrides) {
  kafka["bootstrap.servers"] = brokers;
  kafka["group.id"] = group_id;
  kafka["enable.auto.commit"] = "false";
  kafka["auto.offset.reset"] = "earliest";  // a start the retention removed: from what is left
  for (const auto& [k, v] : overrides) kafka[k] = v;
  AddConsumerDefaults(kafka);
  auto conf = MakeConf(kafka);
  if (!conf.ok()) return conf.status();
  char err[512];
  KafkaPtr rk(rd_kafka_new(RD_KAFKA_CONSUMER, conf->release(), err, sizeof err));
  if (!rk) return Status::Unavailable(group_id + " consumer: " + err);
  return rk;
}

// The partition ids of `topic` as the cluster's metadata says now; empty when the
// topic does not exist (yet).
inline Result<std::vector<int32_t>> TopicPartitions(rd_kafka_t* rk, const std::string& topic, int timeout_ms) {
  const rd_kafka_metadata_t* md = nullptr;
  LEADSCORE_RETURN_IF_ERROR(KafkaError(rd_kafka_metadata(rk, 1, nullptr, &md, timeout_ms), "metadata"));
  std::vector<int32_t> partitions;
  for (int i = 0; i < md->topic_cnt; ++i) {
    if (topic != md->topics[i].topic || md->topics[i].err) continue;
    for (int p = 0; p < md->topics[i].partition_cnt; ++p) partitions.push_back(md->topics[i].partitions[p].id);
  }
  rd_kafka_metadata_destroy(md);
  return partitions;
}

// A producer learns a topic's partitions and their leaders on its first record to it,
// and that record, with all queued behind it, waits for the answer: 0.3-0.85 s on the
// embedded broker, measured as the first changelog append after a start. Asking for the
// topic's metadata when the producer opens takes that wait out of the first commit. A
// consumer asks too, before its group assigns it the topic's partitions (KafkaSource).
inline Status LearnTopic(rd_kafka_t* client, const std::string& topic, int timeout_ms) {
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(client, topic.c_str(), nullptr);
  if (!rkt) return Status::InvalidArgument("topic " + topic + ": " + rd_kafka_err2str(rd_kafka_last_error()));
  const rd_kafka_metadata_t* md = nullptr;
  const rd_kafka_resp_err_t err = rd_kafka_metadata(client, 0, rkt, &md, timeout_ms);
  if (md) rd_kafka_metadata_destroy(md);
  rd_kafka_topic_destroy(rkt);
  return KafkaError(err, "metadata of " + topic);
}

}  // namespace leadscore::stream
