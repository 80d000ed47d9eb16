#include "store/state_store.h"

#include <charconv>

#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/statistics.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <cstring>
#include <iterator>

#include "store/keys.h"
#include "store/rocks_status.h"

namespace leadscore::store {
using namespace keys;  // NOLINT: the key layout is this file's vocabulary
namespace {

constexpr std::string_view kHandoffFrom = "handoff_from/";

// What a WriteBatch of `parts` takes: its header, and per record a type byte and the
// key and value with their varint lengths (at most 5 bytes each); room for a few more
// small records (the changelog positions Stage adds).
size_t BatchBytes(const std::vector<std::vector<ChangelogOp>>& parts) {
  size_t bytes = 12 + 256;
  for (const auto& part : parts) {
    for (const ChangelogOp& op : part) bytes += 1 + 5 + op.key.size() + (op.value ? 5 + op.value->size() : 0);
  }
  return bytes;
}

// An entity's value: its due time (8 bytes), then its bytes.
Result<StoredEntity> StoredValue(std::string_view value, std::string_view id) {
  if (value.size() < 8) return Status::Corruption("state of '" + std::string(id) + "' is truncated");
  return StoredEntity{std::string(value.substr(8)), ReadI64(value)};
}

// Outbox value: [u32 len][id][u32 len][key][value]
std::string EncodeOutbox(const OutboxRecord& r) {
  std::string v;
  PutU32(v, static_cast<uint32_t>(r.id.size()));
  v += r.id;
  PutU32(v, static_cast<uint32_t>(r.key.size()));
  v += r.key;
  v += r.value;
  return v;
}

bool DecodeOutbox(std::string_view v, OutboxRecord* r) {
  if (v.size() < 4) return false;
  const uint32_t id_len = GetU32(v);
  if (v.size() < 8 + size_t{id_len}) return false;
  r->id = v.substr(4, id_len);
  v.remove_prefix(4 + id_len);
  const uint32_t key_len = GetU32(v);
  if (v.size() < 4 + size_t{key_len}) return false;
  r->key = v.substr(4, key_len);
  r->value = v.substr(4 + key_len);
  return true;
}

}  // namespace

Result<std::unique_ptr<StateStore>> StateStore::Open(const StoreOptions& options) {
  rocksdb::Options o;
  o.create_if_missing = true;
  o.IncreaseParallelism(2);
  o.write_buffer_size = options.write_buffer_bytes;
  o.compression = rocksdb::kLZ4Compression;
  // Entities read back soon after they were written sit in the memtable or the first
  // levels: a memtable bloom filter skips the skiplist on a miss, and the young levels
  // stay uncompressed (no decompression on those reads); older levels are LZ4.
  o.memtable_whole_key_filtering = true;
  o.memtable_prefix_bloom_size_ratio = 0.05;
  // A commit's keys go in sorted, each a few keys past the one before in a memtable that
  // already holds earlier commits. Without a hint RocksDB finds each from the top of the
  // skip list (its splice is rebuilt whenever a key lands past the next node); with one
  // per key prefix (partition + kind: every entity, index, offset and outbox key has
  // them) it walks on from the last insert of that prefix. State path +24 %, batched
  // puts +16 % (quick bench, pairs). RocksDB ignores the hints when a write group inserts
  // concurrently (allow_concurrent_memtable_write); most commits write alone. Range
  // deletions must start at a shorter key (keys.h, kInsertHintPrefixBytes).
  o.memtable_insert_with_hint_prefix_extractor.reset(rocksdb::NewFixedPrefixTransform(kInsertHintPrefixBytes));
  o.compression_per_level = {rocksdb::kNoCompression, rocksdb::kNoCompression, rocksdb::kLZ4Compression,
                             rocksdb::kLZ4Compression, rocksdb::kLZ4Compression, rocksdb::kLZ4Compression,
                             rocksdb::kLZ4Compression};
  if (options.env) o.env = options.env;
  auto stats = rocksdb::CreateDBStatistics();
  stats->set_stats_level(rocksdb::StatsLevel::kExceptTimers);  // tickers only: cheap
  o.statistics = stats;
  rocksdb::BlockBasedTableOptions t;
  t.block_cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  // Most lookups of a new id miss: the bloom filter answers those without a disk read.
  t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
  rocksdb::DB* db = nullptr;
  if (!options.secondary_dir.empty()) {
    // A secondary reads the primary's files as they are; it must keep them all open,
    // or a compaction of the primary could delete one before it is read.
    o.create_if_missing = false;
    o.max_open_files = -1;
    rocksdb::Status s = rocksdb::DB::OpenAsSecondary(o, options.dir, options.secondary_dir, &db);
    if (!s.ok()) return FromRocks(s, "open state in '" + options.dir + "' as a secondary");
    std::unique_ptr<rocksdb::DB> owned(db);
    s = db->TryCatchUpWithPrimary();
    if (!s.ok()) return FromRocks(s, "catch up with the state in '" + options.dir + "'");
    owned.release();
  } else {
    rocksdb::Status s = rocksdb::DB::Open(o, options.dir, &db);
    if (!s.ok()) return FromRocks(s, "open state in '" + options.dir + "'");
  }
  std::unique_ptr<StateStore> store(new StateStore());
  store->db_.reset(db);
  store->stats_ = stats;
  store->options_ = options;
  return store;
}

StateStore::~StateStore() {
  // A clean stop leaves no WAL to replay: the next start is quicker. (After a crash the
  // WAL is replayed, as it must be.)
  if (db_ && options_.secondary_dir.empty()) (void)db_->Flush(rocksdb::FlushOptions());
}

Result<PartitionState> StateStore::Load(int32_t partition) const {
  PartitionState state;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  const std::string what = "load partition " + std::to_string(partition);
  for (char kind : {'M', 'O', 'P', 'X'}) {
    const std::string prefix = Prefix(partition, kind);
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      const std::string_view id(it->key().data() + prefix.size(), it->key().size() - prefix.size());
      const std::string_view value(it->value().data(), it->value().size());
      switch (kind) {
        case 'M':
          if (id == "stream_time" && value.size() == 8) state.stream_time_ms = ReadI64(value);
          if (id == "routing_seq" && value.size() == 8) state.routing_seq = static_cast<uint64_t>(ReadI64(value));
          if (id == "model_version") state.model_version = std::string(value);
          if (id == "state_format" && value.size() == 8) state.state_format = static_cast<int>(ReadI64(value));
          if (id == "reevaluate_to") {
            if (!state.reevaluation) state.reevaluation.emplace();
            state.reevaluation->to_version = std::string(value);
          }
          if (id == "reevaluate_after") {
            if (!state.reevaluation) state.reevaluation.emplace();
            state.reevaluation->after = std::string(value);
          }
          if (id == "handoff_seq" && value.size() == 8) state.handoff_seq = GetU64(value);
          if (id.starts_with(kHandoffFrom) && value.size() == 8) {
            int32_t source = -1;
            const std::string_view digits = id.substr(kHandoffFrom.size());
            std::from_chars(digits.data(), digits.data() + digits.size(), source);
            if (source >= 0) state.handoff_applied[source] = GetU64(value);
          }
          break;
        case 'O':
          if (value.size() != 8) return Status::Corruption(what + ": bad offset for " + std::string(id));
          state.offsets[std::string(id)] = ReadI64(value);
          break;
        case 'P':
          if (value.size() != 8 || id.size() != 4) return Status::Corruption(what + ": bad output offset");
          state.output_offsets[static_cast<int32_t>(GetU32(id))] = ReadI64(value);
          break;
        case 'X': {
          OutboxRecord r;
          if (id.size() != 8 || !DecodeOutbox(value, &r)) return Status::Corruption(what + ": bad outbox record");
          r.seq = GetU64(id);
          state.outbox.push_back(std::move(r));
          break;
        }
      }
    }
    LEADSCORE_RETURN_IF_ERROR(FromRocks(it->status(), what));
  }
  return state;
}

Result<std::optional<StoredEntity>> StateStore::Get(int32_t partition, engine::EntityKind kind,
                                                    std::string_view id) const {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), Key(partition, KindByte(kind), id), &value);
  if (s.IsNotFound()) return std::optional<StoredEntity>();
  LEADSCORE_RETURN_IF_ERROR(FromRocks(s, "read state of '" + std::string(id) + "'"));
  auto stored = StoredValue(value, id);
  if (!stored.ok()) return stored.status();
  return std::optional<StoredEntity>(std::move(*stored));
}

Status StateStore::GetMany(int32_t partition, std::span<const EntityKey> keys,
                           std::vector<std::optional<StoredEntity>>* out) const {
  out->clear();
  out->reserve(keys.size());
  // In chunks: a MultiGet pins a block-cache block per value until it returns, and the
  // first batch after a long stop can find a partition's every entity due.
  constexpr size_t kChunk = 1024;
  std::vector<std::string> names;
  std::vector<rocksdb::Slice> slices;
  std::vector<rocksdb::PinnableSlice> values(std::min(keys.size(), kChunk));
  std::vector<rocksdb::Status> statuses(values.size());
  for (size_t from = 0; from < keys.size(); from += kChunk) {
    const std::span<const EntityKey> chunk = keys.subspan(from, std::min(kChunk, keys.size() - from));
    names.clear();
    for (const EntityKey& k : chunk) names.push_back(Key(partition, KindByte(k.kind), k.id));
    slices.assign(names.begin(), names.end());
    for (rocksdb::PinnableSlice& v : values) v.Reset();  // the last chunk's blocks unpinned
    db_->MultiGet(rocksdb::ReadOptions(), db_->DefaultColumnFamily(), chunk.size(), slices.data(), values.data(),
                  statuses.data());
    for (size_t i = 0; i < chunk.size(); ++i) {
      if (statuses[i].IsNotFound()) {
        out->emplace_back();
        continue;
      }
      LEADSCORE_RETURN_IF_ERROR(FromRocks(statuses[i], "read state of '" + chunk[i].id + "'"));
      auto stored = StoredValue(std::string_view(values[i].data(), values[i].size()), chunk[i].id);
      if (!stored.ok()) return stored.status();
      out->push_back(std::move(*stored));
    }
  }
  return Status::Ok();
}

Status StateStore::DueBy(int32_t partition, int64_t until_ms, std::vector<DueEntity>* out, int64_t from_ms) const {
  const std::string prefix = Prefix(partition, 'T');
  const std::string start =
      from_ms == std::numeric_limits<int64_t>::min() ? prefix : TimerKey(partition, from_ms, engine::EntityKind::kAccount, "");
  const std::string end = TimerKey(partition, until_ms == INT64_MAX ? until_ms : until_ms + 1, engine::EntityKind::kAccount, "");
  rocksdb::ReadOptions ro;
  rocksdb::Slice upper(end);
  ro.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro));
  for (it->Seek(start); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    const std::string_view rest(it->key().data() + prefix.size() + 8, it->key().size() - prefix.size() - 8);
    if (rest.empty()) return Status::Corruption("bad timer index key");
    out->push_back({rest[0] == 'L' ? engine::EntityKind::kLead : engine::EntityKind::kAccount, std::string(rest.substr(1))});
  }
  return FromRocks(it->status(), "read timer index");
}

Status StateStore::ForEachEntity(
    int32_t partition, const std::function<void(engine::EntityKind, std::string_view, const StoredEntity&)>& fn) const {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (engine::EntityKind kind : {engine::EntityKind::kAccount, engine::EntityKind::kLead}) {
    const std::string prefix = Prefix(partition, KindByte(kind));
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      const std::string_view id(it->key().data() + prefix.size(), it->key().size() - prefix.size());
      auto stored = StoredValue(std::string_view(it->value().data(), it->value().size()), id);
      if (!stored.ok()) return stored.status();
      fn(kind, id, *stored);
    }
    LEADSCORE_RETURN_IF_ERROR(FromRocks(it->status(), "read state"));
  }
  return Status::Ok();
}

Status StateStore::ListAccounts(int32_t partition, std::string_view after, size_t max,
                                std::vector<std::string>* ids) const {
  const std::string prefix = Prefix(partition, 'A');
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  it->Seek(Key(partition, 'A', after));
  // `after` itself is done: start past it (an empty `after` is the prefix, not a key).
  if (!after.empty() && it->Valid() && it->key() == rocksdb::Slice(Key(partition, 'A', after))) it->Next();
  for (; it->Valid() && it->key().starts_with(prefix) && ids->size() < max; it->Next()) {
    ids->emplace_back(it->key().data() + prefix.size(), it->key().size() - prefix.size());
  }
  return FromRocks(it->status(), "list accounts");
}

Status StateStore::Write(rocksdb::WriteBatch& batch, const std::string& what) {
  rocksdb::WriteOptions w;
  w.sync = options_.sync;
  // The partitions' commits write from threads of their own. RocksDB groups concurrent
  // writes behind one leader, and the writers waiting for it spin on the two cores it
  // needs: measured, eight concurrent writes of a small commit each took 1.7 ms at the
  // median against 0.12 ms alone. Taking turns here, the quick latency row at 64 k
  // records/s: p99 47-49 -> 36-37 ms. With the WAL synced, the group shares one fsync
  // instead, worth more than the spinning costs: those writes do not take turns.
  std::unique_lock lock(write_mu_, std::defer_lock);
  if (!w.sync) lock.lock();
  return FromRocks(db_->Write(w, &batch), what);
}

Status StateStore::Commit(std::span<const PartitionCommit> commits) {
  std::vector<std::vector<ChangelogOp>> parts;
  parts.reserve(commits.size());
  for (const PartitionCommit& c : commits) {
    std::vector<ChangelogOp>& part = parts.emplace_back();
    auto put = [&part](std::string key, std::string value) { part.push_back({std::move(key), std::move(value)}); };
    auto del = [&part](std::string key) { part.push_back({std::move(key), std::nullopt}); };
    for (const auto& ch : c.changes) {
      std::string key = Key(c.partition, KindByte(ch.kind), ch.id);
      if (ch.bytes.empty()) {
        del(std::move(key));
      } else {
        std::string value = I64(ch.due_ms);
        value += ch.bytes;
        put(std::move(key), std::move(value));
      }
      if (ch.previous_due_ms != ch.due_ms || ch.bytes.empty()) {
        if (ch.previous_due_ms != INT64_MAX) del(TimerKey(c.partition, ch.previous_due_ms, ch.kind, ch.id));
      }
      if (!ch.bytes.empty() && ch.due_ms != INT64_MAX) put(TimerKey(c.partition, ch.due_ms, ch.kind, ch.id), "");
    }
    for (const auto& [topic, offset] : c.offsets) put(Key(c.partition, 'O', topic), I64(offset));
    for (const auto& r : c.outbox) put(OutboxKey(c.partition, r.seq), EncodeOutbox(r));
    for (uint64_t seq : c.outbox_dropped) del(OutboxKey(c.partition, seq));
    put(Key(c.partition, 'M', "stream_time"), I64(c.stream_time_ms));
    put(Key(c.partition, 'M', "model_version"), c.model_version);
    if (c.state_format) put(Key(c.partition, 'M', "state_format"), I64(c.state_format));
    if (c.reevaluation) {
      put(Key(c.partition, 'M', "reevaluate_to"), c.reevaluation->to_version);
      put(Key(c.partition, 'M', "reevaluate_after"), c.reevaluation->after);
    } else if (c.reevaluation_done) {
      del(Key(c.partition, 'M', "reevaluate_to"));
      del(Key(c.partition, 'M', "reevaluate_after"));
    }
    auto u64 = [](uint64_t v) {
      std::string s;
      PutU64(s, v);
      return s;
    };
    if (c.handoff_seq) put(Key(c.partition, 'M', "handoff_seq"), u64(*c.handoff_seq));
    for (const auto& [source, seq] : c.handoff_applied) {
      put(Key(c.partition, 'M', std::string(kHandoffFrom) + std::to_string(source)), u64(seq));
    }
    LEADSCORE_RETURN_IF_ERROR(StageRoutings(c, part));
  }
  // Sized up front: a merged commit's batch runs to tens of MB, and grown by doubling it
  // was copied about twice over, each copy into freshly faulted pages.
  rocksdb::WriteBatch batch(BatchBytes(parts));
  LEADSCORE_RETURN_IF_ERROR(AddInKeyOrder(parts, batch));
  // Then to the changelog, which takes the parts (no copy).
  for (size_t i = 0; i < commits.size(); ++i) {
    LEADSCORE_RETURN_IF_ERROR(Stage(commits[i].partition, std::move(parts[i]), batch));
  }
  return Write(batch, "commit state");
}

// The memtable is a skip list that starts each insert from where the last one went in:
// keys in order are each found a step or two from the one before, keys at random from
// the top (about 20 key comparisons apiece at a commit's size, the largest share of the
// state path's CPU). The sort is stable: a key written twice keeps its last value.
Status StateStore::AddInKeyOrder(const std::vector<std::vector<ChangelogOp>>& parts, rocksdb::WriteBatch& batch) {
  std::vector<const ChangelogOp*> ops;
  for (const auto& part : parts) {
    for (const ChangelogOp& op : part) ops.push_back(&op);
  }
  std::stable_sort(ops.begin(), ops.end(), [](const ChangelogOp* a, const ChangelogOp* b) { return a->key < b->key; });
  for (const ChangelogOp* op : ops) {
    rocksdb::Status s = op->value ? batch.Put(op->key, *op->value) : batch.Delete(op->key);
    LEADSCORE_RETURN_IF_ERROR(FromRocks(s, "stage commit"));
  }
  return Status::Ok();
}

Status StateStore::CommitDelivered(const std::vector<DeliveryCommit>& commits) {
  rocksdb::WriteBatch batch;
  std::lock_guard lock(unlogged_mu_);
  for (const DeliveryCommit& c : commits) {
    auto& unlogged = unlogged_[c.partition];
    for (uint64_t seq : c.delivered) {
      batch.Delete(OutboxKey(c.partition, seq));
      if (changelog_) unlogged[OutboxKey(c.partition, seq)] = std::nullopt;
    }
    for (const auto& [out_partition, offset] : c.output_offsets) {
      std::string id;
      PutU32(id, static_cast<uint32_t>(out_partition));
      batch.Put(Key(c.partition, 'P', id), I64(offset));
      if (changelog_) unlogged[Key(c.partition, 'P', id)] = I64(offset);
    }
  }
  return Write(batch, "commit deliveries");
}

Status StateStore::Stage(int32_t partition, std::vector<ChangelogOp> part, rocksdb::WriteBatch& batch) {
  if (!changelog_) return Status::Ok();
  std::vector<ChangelogOp> ops;
  {
    std::lock_guard lock(unlogged_mu_);
    auto it = unlogged_.find(partition);
    if (it != unlogged_.end()) {
      for (auto& [key, value] : it->second) ops.push_back({key, std::move(value)});
      unlogged_.erase(it);
    }
  }
  if (ops.empty()) {
    ops = std::move(part);
  } else {
    ops.insert(ops.end(), std::make_move_iterator(part.begin()), std::make_move_iterator(part.end()));
  }
  if (ops.empty()) return Status::Ok();
  auto position = AppendBatch(partition, std::move(ops));
  if (!position.ok()) return position.status();
  return FromRocks(batch.Put(ChangelogPositionKey(partition), I64(*position)), "stage commit");
}

Result<int64_t> StateStore::AppendBatch(int32_t partition, std::vector<ChangelogOp> ops) {
  // The marker's value is for a reader of the topic: how many records the batch has.
  ops.push_back({MarkerKey(partition), std::to_string(ops.size())});
  return changelog_->Append(partition, ops);
}

Status StateStore::FlushChangelog(int32_t partition) {
  if (!changelog_) return Status::Ok();
  rocksdb::WriteBatch batch;
  LEADSCORE_RETURN_IF_ERROR(Stage(partition, {}, batch));
  if (batch.Count() == 0) return Status::Ok();
  return Write(batch, "record changelog position");
}

Result<std::optional<int64_t>> StateStore::ChangelogPosition(int32_t partition) const {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), ChangelogPositionKey(partition), &value);
  if (s.IsNotFound()) return std::optional<int64_t>();
  LEADSCORE_RETURN_IF_ERROR(FromRocks(s, "read changelog position"));
  if (value.size() != 8) return Status::Corruption("bad changelog position of partition " + std::to_string(partition));
  return std::optional<int64_t>(ReadI64(value));
}

Status StateStore::SetOutputOffsets(int32_t partition, const std::map<int32_t, int64_t>& offsets) {
  return CommitDelivered({DeliveryCommit{partition, {}, offsets}});
}

Status StateStore::Scrub(int32_t partition) {
  rocksdb::FlushOptions flush;
  flush.wait = true;
  LEADSCORE_RETURN_IF_ERROR(FromRocks(db_->Flush(flush), "flush before erasure"));
  std::string begin, end;
  PutU32(begin, static_cast<uint32_t>(partition));
  PutU32(end, static_cast<uint32_t>(partition) + 1);
  rocksdb::CompactRangeOptions compact;
  compact.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  const rocksdb::Slice b(begin), e(end);
  return FromRocks(db_->CompactRange(compact, &b, &e), "compact erased state");
}

uint64_t StateStore::ApproximateBytes() const {
  uint64_t bytes = 0;
  db_->GetIntProperty("rocksdb.total-sst-files-size", &bytes);
  uint64_t mem = 0;
  db_->GetIntProperty("rocksdb.cur-size-all-mem-tables", &mem);
  return bytes + mem;
}

StateStore::WriteCounts StateStore::Written() const {
  return {stats_->getTickerCount(rocksdb::NUMBER_KEYS_WRITTEN), stats_->getTickerCount(rocksdb::BYTES_WRITTEN)};
}

StateStore::Stats StateStore::ReadStats() const {
  Stats s;
  s.bytes = ApproximateBytes();
  db_->GetIntProperty("rocksdb.size-all-mem-tables", &s.memtable_bytes);
  db_->GetIntProperty("rocksdb.block-cache-usage", &s.block_cache_usage_bytes);
  db_->GetIntProperty("rocksdb.estimate-table-readers-mem", &s.table_readers_bytes);
  db_->GetIntProperty("rocksdb.estimate-pending-compaction-bytes", &s.pending_compaction_bytes);
  s.block_cache_hits = stats_->getTickerCount(rocksdb::BLOCK_CACHE_HIT);
  s.block_cache_misses = stats_->getTickerCount(rocksdb::BLOCK_CACHE_MISS);
  s.stall_micros = stats_->getTickerCount(rocksdb::STALL_MICROS);
  s.keys_read_alone = stats_->getTickerCount(rocksdb::NUMBER_KEYS_READ);
  s.keys_read_together = stats_->getTickerCount(rocksdb::NUMBER_MULTIGET_KEYS_READ);
  return s;
}

}  // namespace leadscore::store
