// Durable state in RocksDB, partitioned by input partition. A partition's keys share a
// 4-byte prefix, so its state can be loaded, dropped or handed over on its own.
//
// Keys: [partition u32 BE]['A'|'L'][id]            account / lead: [due i64 LE][engine snapshot]
//       [partition u32 BE]['T'][due u64 BE][A|L][id]  decay timer index: who is due when
//       [partition u32 BE]['O'][topic]              next input offset (i64 LE)
//       [partition u32 BE]['X'][seq u64 BE]          outbox: routing events not yet delivered
//       [partition u32 BE]['P'][output partition u32 BE]  output offset every delivered
//                                                     outbox record of this partition is at or past
//       [partition u32 BE]['M'][name]                stream_time, model_version, routing_seq,
//                                                     changelog (position in the changelog, below),
//                                                     handoff_seq, handoff_from/<partition>
//                                                     (leads changing partition: stream/),
//                                                     state_format (engine::kStateFormat the
//                                                     entities are written in; absent: 4 or older),
//                                                     reevaluate_to, reevaluate_after (a model
//                                                     change's pass in progress: stream/reevaluation.h)
//       [partition u32 BE]['R'][routing_id]          routing snapshot: the event as published and
//                                                     the outcomes that answered it (codec bytes)
//       [partition u32 BE]['W'][at i64][seq u64 BE][routing_id]  -> its 'E' key: snapshots by
//                                                     time, for the retention sweep
//       [partition u32 BE]['E'][A|L][id]\0[at i64][seq u64 BE]  -> [U|D][routing_id]: an
//                                                     entity's routing events by time (the join)
//       [partition u32 BE]['U'][at i64][source]      an outcome that answered nothing: [u32 len]
//                                                     [lead_id][u32 len][account_id][codec bytes]
// (at i64: big-endian with the sign bit flipped, so keys sort by time.)
// A processing batch is one WriteBatch: the entities it changed with their timer index
// entries, the offsets after its records, the stream time and the routing events it
// produced (the outbox), for every partition it touched: state, progress and outputs
// can never disagree. Thread-safe (RocksDB is).
//
// With a changelog attached (SPEC section 6, store/changelog.h) every write of a
// partition's state also goes to the partition's changelog, changelog first: a batch is
// appended and acknowledged by the broker before it is written here, with the position
// it reaches. A crash between the two leaves the changelog ahead of the local state, and
// the next Restore catches up: the changelog is the partition's state, the local RocksDB
// a copy of it that is as far as its position says. Delivery bookkeeping (outbox records
// delivered, output offsets) is written here at once and joins the partition's next
// changelog batch: a new owner that restores without it only has an outbox record the
// outbox check finds published.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "engine/engine.h"
#include "store/changelog.h"
#include "store/options.h"

namespace rocksdb {
class DB;
class Env;
class Statistics;
class WriteBatch;
}  // namespace rocksdb

namespace leadscore::store {

struct StoredEntity {
  std::string bytes;  // engine snapshot
  int64_t due_ms = INT64_MAX;
};

// A routing event waiting for its delivery to be confirmed.
struct OutboxRecord {
  uint64_t seq = 0;  // per partition, increasing: publishing order
  std::string id;    // routing_id: how a published copy is recognised on the topic;
                     // "handoff/<partition>": a record of the repartition topic (stream/)
  std::string key, value;

  static constexpr std::string_view kHandoffId = "handoff/";
  // The repartition topic's partition a handoff record goes to; -1: a routing event.
  int32_t handoff_partition() const {
    if (!id.starts_with(kHandoffId)) return -1;
    int32_t p = -1;
    for (char c : id.substr(kHandoffId.size())) p = (p < 0 ? 0 : p * 10) + (c - '0');
    return p;
  }
};

// A routing event as published, kept with the outcomes that answer it (SPEC section 2)
// for the join, GET /v1/routings and the report, until it is older than
// routing_retention_ms. The store reads only the fields beside the bytes.
struct RoutingRecord {
  std::string routing_id;
  engine::EntityKind entity = engine::EntityKind::kLead;
  std::string entity_id;  // the lead's id for a lead's event, the account's for an account's
  bool up = true;
  int64_t occurred_at_ms = 0;
  uint64_t seq = 0;   // per partition, increasing: the order of events at the same time
  std::string bytes;  // codec::EncodeSnapshot
};

// An outcome that answered no known routing event, kept for the report.
struct UnmatchedRecord {
  int64_t occurred_at_ms = 0;
  std::string source;  // what tells it from another at the same time: its input record
  std::string lead_id, account_id;  // whose: a Forget of either erases it
  std::string bytes;   // codec::EncodeInput of the outcome
};

// Where the join by time found a routing event (StateStore::LatestUpRouting).
struct RoutingRef {
  std::string routing_id;
  int64_t occurred_at_ms = 0;
  uint64_t seq = 0;
};

// A pass re-evaluating every entity of a partition (a model change, or the rewrite of
// an older state format) in progress: the model it goes to, and the last account key
// done (empty: none yet). Accounts are taken in key order, so a pass interrupted by a
// crash continues after `after`.
struct Reevaluation {
  std::string to_version;
  std::string after;
  bool operator==(const Reevaluation&) const = default;
};

struct PartitionState {
  std::map<std::string, int64_t> offsets;  // topic -> next offset to read
  int64_t stream_time_ms = 0;
  uint64_t routing_seq = 0;   // the next RoutingRecord::seq
  std::string model_version;  // empty: nothing stored yet
  std::vector<OutboxRecord> outbox;                  // in seq order
  std::map<int32_t, int64_t> output_offsets;         // output partition -> offset
  // Leads handed between partitions: the next seq this partition sends, and per source
  // partition the highest seq applied here (a copy sent again is not applied twice).
  uint64_t handoff_seq = 0;
  std::map<int32_t, uint64_t> handoff_applied;
  int state_format = 0;  // the entities' layout (engine::kStateFormat); 0: not recorded (4 or older)
  std::optional<Reevaluation> reevaluation;  // a pass in progress
};

struct PartitionCommit {
  int32_t partition = 0;
  std::vector<engine::Engine::Change> changes;
  std::map<std::string, int64_t> offsets;
  int64_t stream_time_ms = 0;
  std::string model_version;
  std::vector<OutboxRecord> outbox;  // added
  std::vector<uint64_t> outbox_dropped;  // removed unpublished (an erased entity's)
  std::optional<uint64_t> handoff_seq{};         // when it moved
  std::map<int32_t, uint64_t> handoff_applied{}; // the sources that moved
  // Routing snapshots: the batch's routing events (kept routing_retention_ms of stream
  // time), stored ones the batch's outcomes answered (routing_id -> new bytes), and the
  // outcomes that answered nothing. Snapshots and unmatched outcomes older than stream
  // time - retention are deleted in the same write.
  std::vector<RoutingRecord> routings{};
  std::map<std::string, std::string> routings_answered{};
  std::vector<UnmatchedRecord> unmatched{};
  uint64_t routing_seq = 0;  // the next seq; written when `routings` is not empty
  int state_format = 0;      // written when not 0
  // A re-evaluation pass: its progress written, or (done) its marker removed.
  std::optional<Reevaluation> reevaluation{};
  bool reevaluation_done = false;
};

struct DeliveryCommit {
  int32_t partition = 0;
  std::vector<uint64_t> delivered;             // outbox seqs to remove
  std::map<int32_t, int64_t> output_offsets;   // raised to these
};

// An entity by kind and id: a timer index entry, or one to read.
struct EntityKey {
  engine::EntityKind kind;
  std::string id;
};
using DueEntity = EntityKey;

class StateStore {
 public:
  static Result<std::unique_ptr<StateStore>> Open(const StoreOptions& options);
  ~StateStore();

  // Everything of a partition but its entities, which are read on demand.
  Result<PartitionState> Load(int32_t partition) const;
  Result<std::optional<StoredEntity>> Get(int32_t partition, engine::EntityKind kind, std::string_view id) const;
  // Many at once, each as Get gives it, in the order asked: a MultiGet per 1 024 keys,
  // whose filter probes and block reads RocksDB batches per file (a batch's misses, a
  // page of leads).
  Status GetMany(int32_t partition, std::span<const EntityKey> keys,
                 std::vector<std::optional<StoredEntity>>* out) const;
  // Entities whose decay check is due at or before `until_ms`, earliest first; from
  // `from_ms` on, when given. The index is a queue: checks are deleted from its front as
  // they fire, and a scan from the start steps over every tombstone RocksDB has not yet
  // compacted away, so a caller that knows nothing earlier is live says so.
  Status DueBy(int32_t partition, int64_t until_ms, std::vector<DueEntity>* out,
               int64_t from_ms = std::numeric_limits<int64_t>::min()) const;
  // Every stored entity of a partition, in key order (dumps and tests).
  Status ForEachEntity(int32_t partition,
                       const std::function<void(engine::EntityKind, std::string_view id, const StoredEntity&)>& fn) const;

  // Up to `max` account ids of a partition after `after` (empty: from the first), in key
  // order: a model change's pass goes through them page by page, committing between
  // pages, so the read holds no iterator across its own writes.
  Status ListAccounts(int32_t partition, std::string_view after, size_t max, std::vector<std::string>* ids) const;

  // Routing snapshots (see RoutingRecord). The bytes of one; nullopt: none kept.
  Result<std::optional<std::string>> GetRouting(int32_t partition, std::string_view routing_id) const;
  // The latest UP routing event of the entity at or before `at_ms` (the latest seq among
  // equal times); nullopt: none kept.
  Result<std::optional<RoutingRef>> LatestUpRouting(int32_t partition, engine::EntityKind kind,
                                                    std::string_view entity_id, int64_t at_ms) const;
  // Every kept snapshot of the partition in the order the events happened, then every
  // unmatched outcome by time (the report). `fn` returning an error stops the read.
  Status ForEachRouting(int32_t partition, const std::function<Status(std::string_view bytes)>& fn) const;
  Status ForEachUnmatched(int32_t partition, const std::function<Status(std::string_view bytes)>& fn) const;
  // The partitions that have any state here, ascending (a tool reading a state dir).
  Result<std::vector<int32_t>> StoredPartitions() const;

  // The changelog every write also goes to; null: none. Set before the first write; it
  // outlives the store.
  void AttachChangelog(ChangelogWriter* changelog) { changelog_ = changelog; }
  // Makes the partition's local state equal to its changelog before a task resumes it:
  // nothing to do when the local position is the changelog's end; the records after it
  // applied when the local state is behind (stale: another instance went on); all of
  // it, local state dropped first, when the local state has no position or one the
  // changelog no longer has. A changelog behind the local state (recreated, or written
  // by a release without one) is seeded from the local state. A batch whose end marker
  // never came (its writer died mid-append) is overwritten with the restored values.
  // Restartable: a crash mid-way restores again from the same position.
  Status Restore(int32_t partition, ChangelogReader& reader, RestoreProgress* progress);
  // A standby's part (stream/standby.h): a whole changelog batch of a partition this
  // instance does not own, applied with the position after its end marker, in one write.
  Status ApplyFollowed(int32_t partition, const std::vector<ChangelogOp>& ops, int64_t position);
  // Whether `key` is the end marker of a batch of `partition` (changelog records).
  static bool IsBatchEnd(int32_t partition, std::string_view key);
  // Whether any key of the partition is stored (a standby never follows over state it
  // cannot place in the changelog: one written by a release without a changelog).
  Result<bool> HasPartitionState(int32_t partition) const;
  // The partition's delivery bookkeeping not yet in its changelog, appended now (before
  // the partition is handed over, or at a clean stop).
  Status FlushChangelog(int32_t partition);
  // The partition's changelog made to hold what the local state holds, whatever it held
  // before (`leadscore rebuild` switching to a rebuilt state): one whole batch of every
  // local key and a tombstone for each key the changelog, or `replaced` (the state this
  // one replaces; may be null), has and the local state lacks; then the position after
  // it recorded here, as Restore's seeding does. A restore from the changelog's start
  // (or from any position before the batch) then ends in exactly the local state.
  Status ReseedReplacing(int32_t partition, ChangelogReader& reader, const StateStore* replaced,
                         RestoreProgress* progress);
  // The changelog offset the partition's local state reaches; nullopt: none recorded.
  Result<std::optional<int64_t>> ChangelogPosition(int32_t partition) const;

  // One atomic write for the whole processing batch. A partition's own commit
  // (`Commit({c})`) takes the one-commit form: a commit's changes are its largest
  // buffers, and a list built from it would copy them.
  Status Commit(std::span<const PartitionCommit> commits);
  Status Commit(const PartitionCommit& one) { return Commit(std::span<const PartitionCommit>(&one, 1)); }
  Status Commit(const std::vector<PartitionCommit>& commits) { return Commit(std::span<const PartitionCommit>(commits)); }
  // One atomic write: outbox records delivered, and where their partitions are now.
  Status CommitDelivered(const std::vector<DeliveryCommit>& commits);
  Status SetOutputOffsets(int32_t partition, const std::map<int32_t, int64_t>& offsets);
  // Erasure to the last byte: writes the memtable out (the WAL files holding earlier
  // snapshots become obsolete and are deleted) and rewrites the partition's key range
  // down to the last level, so deleted entities leave no old version and no delete
  // marker in any SST file. Costs a rewrite of the partition's state: called after a
  // batch that erased, at most once per `erasure_scrub_interval_ms`.
  Status Scrub(int32_t partition);
  int64_t erasure_scrub_interval_ms() const { return options_.erasure_scrub_interval_ms; }
  uint64_t ApproximateBytes() const;
  // Keys and bytes written since open (every key of every WriteBatch, index and offsets
  // included): what the state path costs RocksDB.
  struct WriteCounts {
    uint64_t keys = 0, bytes = 0;
  };
  WriteCounts Written() const;
  // What RocksDB says about itself, for monitoring: read now from DB properties and
  // statistics tickers, without waiting for a write. Counts are since open.
  struct Stats {
    uint64_t bytes = 0;                     // ApproximateBytes()
    uint64_t memtable_bytes = 0;            // rocksdb.size-all-mem-tables: active, unflushed and pinned
    uint64_t block_cache_usage_bytes = 0;   // rocksdb.block-cache-usage
    uint64_t table_readers_bytes = 0;       // rocksdb.estimate-table-readers-mem: SST indexes and filters
    uint64_t pending_compaction_bytes = 0;  // rocksdb.estimate-pending-compaction-bytes
    uint64_t block_cache_hits = 0, block_cache_misses = 0;
    uint64_t stall_micros = 0;  // time writes were delayed or stopped for compaction to catch up
    // Keys asked for one at a time (Get) and together (MultiGet: a batch's misses, due
    // checks, a re-evaluation's pages).
    uint64_t keys_read_alone = 0, keys_read_together = 0;
  };
  Stats ReadStats() const;

 private:
  StateStore() = default;
  Status Write(rocksdb::WriteBatch& batch, const std::string& what);
  // With a changelog: appends a partition's part of a commit (after the partition's
  // bookkeeping waiting for the changelog) and adds the position it reaches to `batch`.
  Status Stage(int32_t partition, std::vector<ChangelogOp> part, rocksdb::WriteBatch& batch);
  // The commit's parts into `batch`, in key order.
  static Status AddInKeyOrder(const std::vector<std::vector<ChangelogOp>>& parts, rocksdb::WriteBatch& batch);
  // `ops` and the batch's end marker to the changelog: the position they reach.
  Result<int64_t> AppendBatch(int32_t partition, std::vector<ChangelogOp> ops);
  // Restore's parts (changelog_restore.cc).
  Status DropPartition(int32_t partition);
  // The whole local state as one changelog batch, with a tombstone for each of `absent`
  // the local state lacks; the position it reaches recorded.
  Status Reseed(int32_t partition, RestoreProgress* progress, std::set<std::string> absent = {});
  Status RepairTail(int32_t partition, ChangelogReader& reader, int64_t from, int64_t to, RestoreProgress* progress);
  // A commit's routing snapshots, and the retention sweep, as changelog ops (routings.cc).
  Status StageRoutings(const PartitionCommit& c, std::vector<ChangelogOp>& part) const;
  Status EraseUnmatched(const PartitionCommit& c, std::vector<ChangelogOp>& part) const;

  std::unique_ptr<rocksdb::DB> db_;
  std::shared_ptr<rocksdb::Statistics> stats_;
  StoreOptions options_;
  ChangelogWriter* changelog_ = nullptr;
  // Per partition: delivery bookkeeping written here but not yet to the changelog, by key
  // (the latest value wins; nullopt: deleted).
  std::mutex unlogged_mu_;
  std::map<int32_t, std::map<std::string, std::optional<std::string>>> unlogged_;
  // Unsynced writes take turns (Write says why). Taken after unlogged_mu_, never before.
  std::mutex write_mu_;
};

}  // namespace leadscore::store
