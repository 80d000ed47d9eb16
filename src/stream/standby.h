// Standby replicas (SPEC section 6): this instance keeps the partitions it does not own
// caught up from their changelog in the background, so that taking one over (a
// failover, a rebalance) restores only the few batches it is behind, not the whole state.
//
// Its own consumer, outside any group, on its own thread. Whole batches only: a
// partition's records are held until their end marker, then written with the position
// after it in one write (store::StateStore::ApplyFollowed), so the local state is always
// at a batch boundary and Restore takes it from there. A batch torn by its writer's
// death is held until the new owner's overwriting batch ends, and applied with it.
//
// Follow/Release are called from the service's loop thread (the rebalance callback):
// Release returns once no batch of the partition is being written, so the owner's
// restore and commits never race the standby.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "common/status.h"
#include "store/state_store.h"
#include "stream/changelog_topic.h"

struct rd_kafka_s;

namespace leadscore::stream {

class Standby {
 public:
  // Starts following nothing; Follow() adds partitions.
  static Result<std::unique_ptr<Standby>> Start(const ChangelogTopicOptions& changelog, store::StateStore* store);
  ~Standby();

  void Follow(int32_t partition);   // not owned here: keep it caught up
  void Release(int32_t partition);  // about to be owned here: stop following it

  size_t following() const;
  uint64_t applied_records() const { return applied_records_.load(std::memory_order_relaxed); }

 private:
  Standby() = default;
  void Loop();
  void Reassign();  // mu_ held: the consumer follows `wanted_` from the local positions

  struct Follow_ {
    int64_t next = 0;  // the next changelog offset expected
    std::vector<store::ChangelogOp> batch;  // since the last end marker
  };

  ChangelogTopicOptions options_;
  store::StateStore* store_ = nullptr;
  rd_kafka_s* consumer_ = nullptr;
  mutable std::mutex mu_;
  std::set<int32_t> wanted_;
  std::map<int32_t, Follow_> follows_;
  bool dirty_ = false;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> applied_records_{0};
  std::thread thread_;
};

}  // namespace leadscore::stream
