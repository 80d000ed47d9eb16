// Durable state in RocksDB, partitioned by input partition. A partition's keys share a
// 4-byte prefix, so its state can be loaded, dropped or handed over on its own.
//
// Keys: [partition u32 BE]['A'|'L'][id]  account / lead state (engine snapshot bytes)
//       [partition u32 BE]['O'][topic]   next input offset (i64 LE)
//       [partition u32 BE]['M'][name]    stream_time, model_version
// A processing batch is one WriteBatch: the entities it changed, the offsets after
// its records and the stream time, for every partition it touched: state and progress
// can never disagree. Thread-safe (RocksDB is).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "engine/engine.h"

namespace rocksdb {
class DB;
class Statistics;
}

namespace leadscore::store {

struct StoreOptions {
  std::string dir;                           // created if missing
  size_t block_cache_bytes = 256ull << 20;   // sized for a 2-core / 4 GiB container
  size_t write_buffer_bytes = 64ull << 20;
  bool sync = false;  // fsync the WAL on every batch (the WAL itself is always on)
};

struct StoredEntity {
  engine::EntityKind kind;
  std::string id;
  std::string bytes;
};

struct PartitionState {
  std::vector<StoredEntity> accounts, leads;
  std::map<std::string, int64_t> offsets;  // topic -> next offset to read
  int64_t stream_time_ms = 0;
  std::string model_version;  // empty: nothing stored yet
};

struct PartitionCommit {
  int32_t partition = 0;
  std::vector<engine::Engine::Change> changes;
  std::map<std::string, int64_t> offsets;
  int64_t stream_time_ms = 0;
  std::string model_version;
};

class StateStore {
 public:
  static Result<std::unique_ptr<StateStore>> Open(const StoreOptions& options);
  ~StateStore();

  Result<PartitionState> Load(int32_t partition) const;
  // One atomic write for the whole processing batch.
  Status Commit(const std::vector<PartitionCommit>& commits);
  Status DropPartition(int32_t partition);
  uint64_t ApproximateBytes() const;
  // Block cache hits / (hits + misses) since open; 0 before any read.
  double CacheHitRatio() const;

 private:
  StateStore() = default;
  std::unique_ptr<rocksdb::DB> db_;
  std::shared_ptr<rocksdb::Statistics> stats_;
  StoreOptions options_;
};

}  // namespace leadscore::store
