// StateStore::Restore and its parts: the local state caught up with (or rebuilt from)
// the partition's changelog. See store/changelog.h for the log's shape.
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <set>

#include "store/keys.h"
#include "store/rocks_status.h"
#include "store/state_store.h"

namespace leadscore::store {
using namespace keys;  // NOLINT: the key layout is this file's vocabulary

namespace {

// A restore writes in batches of about this size: memory stays flat on a large state.
constexpr size_t kRestoreBatchBytes = 4 << 20;
// The last batch's end marker is looked for in windows from the end, this size first.
constexpr int64_t kFirstMarkerWindow = 4096;

}  // namespace

Status StateStore::Restore(int32_t partition, ChangelogReader& reader, RestoreProgress* progress) {
  if (!changelog_) return Status::InvalidArgument("restore without a changelog");
  auto marks = reader.Watermarks(partition);
  if (!marks.ok()) return marks.status();
  const auto [low, high] = *marks;
  auto position = ChangelogPosition(partition);
  if (!position.ok()) return position.status();
  const std::optional<int64_t> at = *position;
  progress->from = progress->to = high;
  if (at && *at == high) return Status::Ok();  // the local state is the changelog's end
  if (at && *at > high) return Reseed(partition, progress);  // the changelog lost what the local state has

  int64_t from = low;
  if (at && *at >= low) {
    from = *at;  // stale: catch up from where the local state is
  } else {
    auto has_state = HasPartitionState(partition);
    if (!has_state.ok()) return has_state.status();
    const bool local_data = *has_state;
    // A release without a changelog left its state here, and nothing is in the log yet.
    if (high == low) return local_data ? Reseed(partition, progress) : Status::Ok();
    // A compacted log keeps its first offset; a later one means records were deleted
    // (retention, delete-records), and the state cannot be rebuilt from what is left.
    if (low > 0) {
      return Status::Unavailable("changelog partition " + std::to_string(partition) + " starts at offset " +
                                 std::to_string(low) +
                                 ": records were deleted (retention?), the state cannot be rebuilt from it; the "
                                 "topic must be cleanup.policy=compact only");
    }
    if (local_data) LEADSCORE_RETURN_IF_ERROR(DropPartition(partition));
  }
  progress->from = from;
  if (progress->on_progress) progress->on_progress(*progress);  // the start: records still 0

  // Where the last whole batch ends: only what precedes its marker is applied.
  const std::string marker = MarkerKey(partition);
  int64_t last_marker = -1;
  for (int64_t window = kFirstMarkerWindow;; window *= 2) {
    const int64_t start = std::max(from, high - window);
    LEADSCORE_RETURN_IF_ERROR(reader.Read(partition, start, high, [&](int64_t offset, std::string_view key, auto) {
      if (key == marker) last_marker = offset;
      return Status::Ok();
    }));
    if (last_marker >= 0 || start == from) break;
  }

  int64_t applied_to = from;
  if (last_marker >= 0) {
    const std::string own = PartitionBegin(partition);
    rocksdb::WriteBatch batch;
    LEADSCORE_RETURN_IF_ERROR(reader.Read(
        partition, from, last_marker + 1,
        [&](int64_t, std::string_view key, std::optional<std::string_view> value) -> Status {
          ++progress->records;
          progress->bytes += key.size() + (value ? value->size() : 0);
          if (progress->records % 10000 == 0 && progress->on_progress) progress->on_progress(*progress);
          if (key == marker) return Status::Ok();
          if (!key.starts_with(own)) {
            return Status::Corruption("changelog of partition " + std::to_string(partition) +
                                      " holds a key of another partition");
          }
          rocksdb::Status s = value ? batch.Put(rocksdb::Slice(key.data(), key.size()),
                                                rocksdb::Slice(value->data(), value->size()))
                                    : batch.Delete(rocksdb::Slice(key.data(), key.size()));
          LEADSCORE_RETURN_IF_ERROR(FromRocks(s, "restore"));
          if (batch.GetDataSize() < kRestoreBatchBytes) return Status::Ok();
          // No position with a part: a crash before the end restores again from the
          // same start, and applying the same records in order again ends the same.
          LEADSCORE_RETURN_IF_ERROR(Write(batch, "restore"));
          batch.Clear();
          return Status::Ok();
        }));
    applied_to = last_marker + 1;
    LEADSCORE_RETURN_IF_ERROR(FromRocks(batch.Put(ChangelogPositionKey(partition), I64(applied_to)), "restore"));
    LEADSCORE_RETURN_IF_ERROR(Write(batch, "restore"));
  }
  progress->to = high;
  if (applied_to < high) return RepairTail(partition, reader, applied_to, high, progress);
  return Status::Ok();
}

// The records after the last marker are a batch whose writer died before its marker:
// never applied, and overwritten in the log with what the state holds, so that no
// later reader (after any compaction) can take them for part of a whole batch.
Status StateStore::RepairTail(int32_t partition, ChangelogReader& reader, int64_t from, int64_t to,
                              RestoreProgress* progress) {
  std::set<std::string> keys;
  LEADSCORE_RETURN_IF_ERROR(reader.Read(partition, from, to, [&](int64_t, std::string_view key, auto) {
    ++progress->records;
    if (key != MarkerKey(partition)) keys.emplace(key);
    return Status::Ok();
  }));
  std::vector<ChangelogOp> ops;
  for (const std::string& key : keys) {
    std::string value;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), key, &value);
    if (s.IsNotFound()) {
      ops.push_back({key, std::nullopt});
      continue;
    }
    LEADSCORE_RETURN_IF_ERROR(FromRocks(s, "read state to repair the changelog"));
    ops.push_back({key, std::move(value)});
  }
  auto position = AppendBatch(partition, std::move(ops));
  if (!position.ok()) return position.status();
  rocksdb::WriteBatch batch;
  LEADSCORE_RETURN_IF_ERROR(FromRocks(batch.Put(ChangelogPositionKey(partition), I64(*position)), "repair"));
  return Write(batch, "record changelog position");
}

// The whole local state of the partition becomes one changelog batch.
Status StateStore::Reseed(int32_t partition, RestoreProgress* progress, std::set<std::string> absent) {
  std::vector<ChangelogOp> ops;
  const std::string prefix = PartitionBegin(partition);
  const std::string position_key = ChangelogPositionKey(partition);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    if (it->key() == position_key) continue;
    ops.push_back({it->key().ToString(), it->value().ToString()});
    absent.erase(ops.back().key);
    progress->bytes += it->key().size() + it->value().size();
  }
  LEADSCORE_RETURN_IF_ERROR(FromRocks(it->status(), "read state to seed the changelog"));
  absent.erase(position_key);
  absent.erase(MarkerKey(partition));
  for (const std::string& key : absent) ops.push_back({key, std::nullopt});
  progress->records = ops.size();
  auto position = AppendBatch(partition, std::move(ops));
  if (!position.ok()) return position.status();
  rocksdb::WriteBatch batch;
  LEADSCORE_RETURN_IF_ERROR(FromRocks(batch.Put(position_key, I64(*position)), "seed"));
  return Write(batch, "record changelog position");
}

Status StateStore::ReseedReplacing(int32_t partition, ChangelogReader& reader, const StateStore* replaced,
                                   RestoreProgress* progress) {
  if (!changelog_) return Status::InvalidArgument("reseed without a changelog");
  // The keys the log would still give a value after compaction: its last record of each
  // (a tail after the last marker included: the batch below ends it, and a restore
  // applies the tail with it).
  std::set<std::string> absent;
  auto marks = reader.Watermarks(partition);
  if (!marks.ok()) return marks.status();
  const auto [low, high] = *marks;
  if (high > low) {
    LEADSCORE_RETURN_IF_ERROR(
        reader.Read(partition, low, high, [&](int64_t, std::string_view key, std::optional<std::string_view> value) {
          if (value) absent.emplace(key);
          else absent.erase(std::string(key));
          return Status::Ok();
        }));
  }
  if (replaced) {
    const std::string prefix = PartitionBegin(partition);
    std::unique_ptr<rocksdb::Iterator> it(replaced->db_->NewIterator(rocksdb::ReadOptions()));
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) absent.insert(it->key().ToString());
    LEADSCORE_RETURN_IF_ERROR(FromRocks(it->status(), "read the replaced state"));
  }
  progress->from = low;
  progress->to = high;
  return Reseed(partition, progress, std::move(absent));
}

Status StateStore::ApplyFollowed(int32_t partition, const std::vector<ChangelogOp>& ops, int64_t position) {
  rocksdb::WriteBatch batch;
  for (const ChangelogOp& op : ops) {
    LEADSCORE_RETURN_IF_ERROR(FromRocks(op.value ? batch.Put(op.key, *op.value) : batch.Delete(op.key), "follow"));
  }
  LEADSCORE_RETURN_IF_ERROR(FromRocks(batch.Put(ChangelogPositionKey(partition), I64(position)), "follow"));
  return Write(batch, "apply a followed batch");
}

Result<bool> StateStore::HasPartitionState(int32_t partition) const {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  const std::string prefix = PartitionBegin(partition);
  it->Seek(prefix);
  const bool found = it->Valid() && it->key().starts_with(prefix);
  LEADSCORE_RETURN_IF_ERROR(FromRocks(it->status(), "read state"));
  return found;
}

bool StateStore::IsBatchEnd(int32_t partition, std::string_view key) { return key == MarkerKey(partition); }

Status StateStore::DropPartition(int32_t partition) {
  const std::string begin = PartitionBegin(partition), end = PartitionBegin(partition + 1);
  // The memtable's insert hints and range deletions must not meet (keys.h).
  static_assert(sizeof(uint32_t) < kInsertHintPrefixBytes, "a range deletion must start below the hint prefix");
  rocksdb::WriteOptions w;
  w.sync = options_.sync;
  return FromRocks(db_->DeleteRange(w, db_->DefaultColumnFamily(), begin, end), "drop stale state");
}

}  // namespace leadscore::store
