#include "store/state_store.h"

#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/statistics.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <cstring>

namespace leadscore::store {
namespace {

std::string Prefix(int32_t partition) {
  const auto p = static_cast<uint32_t>(partition);
  const char b[4] = {static_cast<char>(p >> 24), static_cast<char>(p >> 16), static_cast<char>(p >> 8),
                     static_cast<char>(p)};
  return std::string(b, 4);
}

std::string Key(int32_t partition, char kind, std::string_view id) {
  std::string k = Prefix(partition);
  k += kind;
  k.append(id);
  return k;
}

std::string I64(int64_t v) { return std::string(reinterpret_cast<const char*>(&v), sizeof v); }

Status FromRocks(const rocksdb::Status& s, const std::string& what) {
  if (s.ok()) return Status::Ok();
  return s.IsCorruption() ? Status::Corruption(what + ": " + s.ToString()) : Status::IoError(what + ": " + s.ToString());
}

}  // namespace

Result<std::unique_ptr<StateStore>> StateStore::Open(const StoreOptions& options) {
  rocksdb::Options o;
  o.create_if_missing = true;
  o.IncreaseParallelism(2);
  o.write_buffer_size = options.write_buffer_bytes;
  o.compression = rocksdb::kLZ4Compression;
  auto stats = rocksdb::CreateDBStatistics();
  stats->set_stats_level(rocksdb::StatsLevel::kExceptTimers);  // tickers only: cheap
  o.statistics = stats;
  rocksdb::BlockBasedTableOptions t;
  t.block_cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
  rocksdb::DB* db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(o, options.dir, &db);
  if (!s.ok()) return FromRocks(s, "open state in '" + options.dir + "'");
  std::unique_ptr<StateStore> store(new StateStore());
  store->db_.reset(db);
  store->stats_ = stats;
  store->options_ = options;
  return store;
}

StateStore::~StateStore() = default;

Result<PartitionState> StateStore::Load(int32_t partition) const {
  PartitionState state;
  const std::string prefix = Prefix(partition);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    const std::string_view key(it->key().data() + 4, it->key().size() - 4);
    if (key.empty()) continue;
    const char kind = key[0];
    const std::string_view id = key.substr(1);
    const std::string_view value(it->value().data(), it->value().size());
    switch (kind) {
      case 'A':
        state.accounts.push_back({engine::EntityKind::kAccount, std::string(id), std::string(value)});
        break;
      case 'L':
        state.leads.push_back({engine::EntityKind::kLead, std::string(id), std::string(value)});
        break;
      case 'O':
        if (value.size() != 8) return Status::Corruption("bad offset for " + std::string(id));
        std::memcpy(&state.offsets[std::string(id)], value.data(), 8);
        break;
      case 'M':
        if (id == "stream_time" && value.size() == 8) std::memcpy(&state.stream_time_ms, value.data(), 8);
        if (id == "model_version") state.model_version = std::string(value);
        break;
      default:
        break;
    }
  }
  LEADSCORE_RETURN_IF_ERROR(FromRocks(it->status(), "load partition " + std::to_string(partition)));
  return state;
}

Status StateStore::Commit(const std::vector<PartitionCommit>& commits) {
  rocksdb::WriteBatch batch;
  for (const PartitionCommit& c : commits) {
    for (const auto& ch : c.changes) {
      const std::string key = Key(c.partition, ch.kind == engine::EntityKind::kLead ? 'L' : 'A', ch.id);
      if (ch.bytes.empty()) batch.Delete(key);
      else batch.Put(key, ch.bytes);
    }
    for (const auto& [topic, offset] : c.offsets) batch.Put(Key(c.partition, 'O', topic), I64(offset));
    batch.Put(Key(c.partition, 'M', "stream_time"), I64(c.stream_time_ms));
    batch.Put(Key(c.partition, 'M', "model_version"), c.model_version);
  }
  rocksdb::WriteOptions w;
  w.sync = options_.sync;
  return FromRocks(db_->Write(w, &batch), "commit state");
}

Status StateStore::DropPartition(int32_t partition) {
  const std::string begin = Prefix(partition), end = Prefix(partition + 1);
  return FromRocks(db_->DeleteRange(rocksdb::WriteOptions(), db_->DefaultColumnFamily(), begin, end),
                   "drop partition " + std::to_string(partition));
}

uint64_t StateStore::ApproximateBytes() const {
  uint64_t bytes = 0;
  db_->GetIntProperty("rocksdb.total-sst-files-size", &bytes);
  uint64_t mem = 0;
  db_->GetIntProperty("rocksdb.cur-size-all-mem-tables", &mem);
  return bytes + mem;
}

double StateStore::CacheHitRatio() const {
  const double hits = static_cast<double>(stats_->getTickerCount(rocksdb::BLOCK_CACHE_HIT));
  const double misses = static_cast<double>(stats_->getTickerCount(rocksdb::BLOCK_CACHE_MISS));
  return hits + misses > 0 ? hits / (hits + misses) : 0;
}

}  // namespace leadscore::store
