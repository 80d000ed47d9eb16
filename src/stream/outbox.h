// One partition's outbox: the routing events its task committed and the producer has
// not yet confirmed, in publishing order. Pure bookkeeping (no Kafka, no RocksDB): the
// task stages and commits records, the publisher hands them to the producer and feeds
// back what was delivered; what must be stored comes back as a DeliveryCommit.
//
// A record is published only once committed: Stage() numbers a batch's events, the
// caller writes them with the batch's state, and only then Committed() adds them.
// Records read back from the store on resume may already be on the output topic (the
// earlier run died before recording their delivery): they wait for Check() against the
// topic before anything is produced.
//
// Not thread-safe: the owning task's batch and the publisher take turns (the service's
// loop orders them); size() may be read from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <set>
#include <span>
#include <string>
#include <unordered_set>
#include <vector>

#include "codec/options.h"
#include "engine/engine.h"
#include "store/state_store.h"

namespace leadscore::stream {

class Outbox {
 public:
  explicit Outbox(int32_t partition) : partition_(partition) {}

  // What the store held: records left by an earlier run and the output offsets every
  // later record lands at or past.
  void Resume(std::vector<store::OutboxRecord> records, std::map<int32_t, int64_t> output_offsets);

  // The batch's routing events as records, numbered on from the last (prepare).
  std::vector<store::OutboxRecord> Stage(const std::vector<engine::RoutingEvent>& events, codec::Format format);
  // Leads handed to other partitions (README "A lead that changes partition"), as
  // records of the repartition topic numbered on from `*handoff_seq`: a claim and a
  // relayed Forget to each of the other `partitions`, a transfer to its claimant.
  std::vector<store::OutboxRecord> StageHandoffs(const std::vector<engine::Handoff>& handoffs, int32_t partitions,
                                                 uint64_t* handoff_seq);
  // The staged records are durable: they may be published (post-commit).
  void Committed(std::vector<store::OutboxRecord> records);

  // An erasure: the records not yet handed to the producer that name an erased lead or
  // account are taken out (their seqs returned, to delete from the store in the same
  // write). What the producer already has cannot be called back.
  std::vector<uint64_t> DropUnproduced(const std::set<std::string>& leads, const std::set<std::string>& accounts,
                                       codec::Format format);
  void Dropped(const std::vector<uint64_t>& seqs);

  // Records left by an earlier run wait to be checked against the output topic.
  bool needs_check() const { return needs_check_; }
  // Drops the records whose routing_id is already on the topic; the rest are published.
  store::DeliveryCommit Check(const std::unordered_set<std::string>& published_ids);

  // Records not yet handed to the producer, in order; MarkProduced() after handing them.
  std::span<const store::OutboxRecord> Unproduced() const;
  void MarkProduced() { produced_ = records_.size(); }
  size_t produced() const { return produced_; }

  // Delivery reports: the seqs delivered, and per output partition the offset past the
  // highest delivery (of any partition's records: every later record lands past it).
  store::DeliveryCommit Delivered(const std::unordered_set<uint64_t>& seqs, const std::map<int32_t, int64_t>& reached);

  const std::map<int32_t, int64_t>& output_offsets() const { return output_offsets_; }
  void SetOutputOffsets(std::map<int32_t, int64_t> offsets) { output_offsets_ = std::move(offsets); }
  bool empty() const { return records_.empty(); }
  size_t size() const { return size_.load(std::memory_order_relaxed); }

 private:
  void Counted() { size_.store(records_.size(), std::memory_order_relaxed); }

  int32_t partition_;
  std::vector<store::OutboxRecord> records_;  // seq order; the first produced_ are with the producer
  size_t produced_ = 0;
  uint64_t next_seq_ = 0;
  bool needs_check_ = false;
  std::map<int32_t, int64_t> output_offsets_;
  std::atomic<size_t> size_{0};
};

}  // namespace leadscore::stream
