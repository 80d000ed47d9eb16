// The streaming service's options on their own: configuration fills them without
// linking the service, Kafka or RocksDB.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "codec/options.h"
#include "engine/engine.h"
#include "store/options.h"

namespace leadscore::stream {

struct InputTopic {
  std::string name;
  codec::Format format = codec::Format::kProtobuf;
};

// What one partition task needs to know, beside its model and store.
struct TaskOptions {
  codec::DecoderOptions decoder;  // size limits of ids and attributes
  engine::EngineOptions engine;
  // Events further ahead of the batch's clock than this are refused (DLQ).
  int64_t max_future_skew_ms = 3600 * 1000;
  // Records are keyed by account_id: a record without a key is refused. Off for replay
  // (JSON lines have no key).
  bool require_key = true;
  codec::Format output_format = codec::Format::kProtobuf;  // of the outbox's records
  size_t cache_entities = SIZE_MAX;  // leads + accounts this task keeps in memory
  size_t cache_bytes = 0;            // ... and their estimated bytes (0: no byte bound)
  // Leads changing partition (README "A lead that changes partition"): records of this
  // topic are handoffs between partitions, not inputs; empty: none (one partition, replay).
  std::string handoff_topic;
  int32_t partitions = 1;  // of the inputs: a claim goes to every other one
};

struct ServiceOptions {
  std::string brokers;
  std::string group_id = "leadscore";
  std::vector<InputTopic> inputs = {{"engagement-events"}, {"profiles"}, {"sales-outcomes"}};
  std::string output_topic = "routing-events";
  codec::Format output_format = codec::Format::kProtobuf;
  std::string dlq_topic = "leadscore-dlq";
  std::map<std::string, std::string> kafka;           // librdkafka properties for both clients
  std::map<std::string, std::string> kafka_consumer;  // ... for the consumer only
  std::map<std::string, std::string> kafka_producer;  // ... for the producer only
  size_t max_batch = 10000;                  // records per processing batch
  int max_wait_ms = 50;                      // wait for the first record of a batch
  // A time budget per batch (stream/batch_sizer.h): each poll takes as many records as
  // the measured cost per record lets the service score in this time, so under load a
  // record waits behind at most about one budget of work. 0: every poll takes up to
  // max_batch.
  int64_t max_process_ms = 20;
  // Merged writes: batches are processed one after another and committed together (one
  // write per partition: state, offsets, outbox, changelog) once the oldest of them is
  // this old, so an entity changed by many of them is written once. Also committed
  // before: a poll that finds nothing, a rebalance, a model change, stopping, and when
  // the bounds below are reached. Routing events leave after their commit, so this
  // adds up to its length to their latency. 0: a commit per batch.
  int64_t commit_interval_ms = 100;
  // A poll that drains the consumer's queue (fewer records than it could take, and less
  // than another poll's worth beyond them on the broker as last reported) commits too:
  // the service has caught up and nothing waits to be merged. Under load polls are full
  // or a backlog is reported, so the interval still merges there. false: the interval alone.
  bool commit_when_caught_up = true;
  size_t commit_max_records = 200'000;        // pending records that commit before the interval ends
  size_t commit_max_bytes = 64u << 20;        // ... and pending bytes of their values
  int64_t max_future_skew_ms = 3600 * 1000;  // events further ahead of the clock go to the DLQ
  codec::DecoderOptions decoder;             // size limits of records, ids and attributes
  // A dead letter whose key and value are larger goes to the DLQ without them (header
  // `truncated`): the reason and source coordinates still arrive, and a record the DLQ
  // cannot take never stalls its partition. Below the producer's message.max.bytes.
  size_t max_dead_letter_bytes = 900'000;
  int flush_timeout_ms = 30000;
  engine::EngineOptions engine;
  // RocksDB state; empty dir: state in memory only, resuming from the group's offsets,
  // routing events at least once.
  store::StoreOptions store;
  // With a state dir, every state change is also written to this compacted topic, one
  // partition per input partition, and an assigned partition is restored from it (SPEC
  // section 6). Empty: `<group_id>-state`.
  std::string changelog_topic;
  // Off: no changelog; state lives only on this instance's disk, and a partition that
  // moves starts from empty state (one instance per group only; the benchmarks' "without").
  bool changelog_enabled = true;
  // > 0: this instance keeps every partition it does not own caught up from the
  // changelog (stream/standby.h), so a takeover restores only the tail. leadscore does
  // not pick standbys per partition (that takes an assignor of its own): with I
  // instances each partition has I - 1 standbys.
  int standby_replicas = 0;
  std::string changelog() const { return changelog_topic.empty() ? group_id + "-state" : changelog_topic; }
  // With the changelog, a lead whose account moves to another partition is handed there
  // through this topic (README "A lead that changes partition"), one partition per input
  // partition, created when missing. Off: the lead lives on in both partitions.
  bool lead_handoff = true;
  std::string handoff_topic;  // empty: `<group_id>-repartition`
  std::string handoff() const { return handoff_topic.empty() ? group_id + "-repartition" : handoff_topic; }
  // The hot set, all partitions: the estimated bytes of the leads and accounts held in
  // memory (state.cache_mb), and optionally their number (state.cache_entities).
  size_t cache_bytes = size_t{1} << 30;
  size_t cache_entities = SIZE_MAX;
  // Worker threads processing partition tasks; 0: one per core.
  size_t threads = 0;
  // Warnings that can come once per record (dead letters, skipped records): at most one
  // line per kind (its reason) per this interval, the next saying how many were left out.
  int64_t log_every_ms = 10'000;
  // The running model's text, for GET /v1/model (the service is handed the model loaded).
  std::string model_yaml;
};

}  // namespace leadscore::stream
