// The store's options on their own, so configuration can name them without linking
// RocksDB.
#pragma once

#include <cstddef>
#include <string>

namespace rocksdb {
class Env;
}  // namespace rocksdb

namespace leadscore::store {

struct StoreOptions {
  std::string dir;                           // created if missing
  size_t block_cache_bytes = 256ull << 20;   // sized for a 2-core / 4 GiB container
  size_t write_buffer_bytes = 64ull << 20;
  bool sync = false;  // fsync the WAL on every batch (the WAL itself is always on)
  // After a batch that erased an entity (Forget), its partition's state is rewritten so
  // no byte of it stays on disk; at most once per this interval per partition, so a
  // stream of erasures does not rewrite the state every batch.
  int64_t erasure_scrub_interval_ms = 60'000;
  // Routing snapshots and unmatched outcomes (state_store.h) are deleted once their
  // occurred_at is older than stream time minus this: the report's horizon. 0: never.
  int64_t routing_retention_ms = 400LL * 24 * 3600 * 1000;
  // Set: the state is opened as a RocksDB secondary instance of `dir`, read-only,
  // keeping its own info log and manifest copy here, so that a tool can read a state a
  // running service holds open (`leadscore report --config`). Nothing may be written.
  std::string secondary_dir{};
  rocksdb::Env* env = nullptr;  // tests: an Env that fails on demand; null: the default
};

}  // namespace leadscore::store
