// Routing snapshots in the state (state_store.h): written with the commit that produced
// or answered them, swept by time, read by routing_id, by entity and time, or all.
#include <rocksdb/db.h>

#include <optional>
#include <set>

#include "store/keys.h"
#include "store/rocks_status.h"
#include "store/state_store.h"

namespace leadscore::store {
using namespace keys;  // NOLINT: the key layout is this file's vocabulary

namespace {

// What is older than this is swept; INT64_MIN: nothing (no retention, or stream time
// too close to the start of time for one).
int64_t Cutoff(int64_t stream_time_ms, int64_t retention_ms) {
  if (retention_ms <= 0 || stream_time_ms < INT64_MIN + retention_ms) return INT64_MIN;
  return stream_time_ms - retention_ms;
}

constexpr size_t kTimeSeq = 16;  // [at i64][seq u64] in 'W' and 'E' keys

// 'U' values: [u32 len][lead_id][u32 len][account_id][the outcome's bytes].
std::string EncodeUnmatched(const UnmatchedRecord& u) {
  std::string v;
  PutU32(v, static_cast<uint32_t>(u.lead_id.size()));
  v += u.lead_id;
  PutU32(v, static_cast<uint32_t>(u.account_id.size()));
  v += u.account_id;
  v += u.bytes;
  return v;
}

struct UnmatchedValue {
  std::string_view lead_id, account_id, bytes;
};
std::optional<UnmatchedValue> DecodeUnmatched(std::string_view v) {
  UnmatchedValue out;
  for (std::string_view* field : {&out.lead_id, &out.account_id}) {
    if (v.size() < 4) return std::nullopt;
    const uint32_t n = GetU32(v);
    if (v.size() - 4 < n) return std::nullopt;
    *field = v.substr(4, n);
    v.remove_prefix(4 + size_t{n});
  }
  out.bytes = v;
  return out;
}

}  // namespace

// A Forget's unmatched outcomes: found by a pass over the partition's few ('U' is
// bounded by retention, and a Forget is rare and rewrites the partition anyway).
Status StateStore::EraseUnmatched(const PartitionCommit& c, std::vector<ChangelogOp>& part) const {
  std::set<std::string_view> leads, accounts;
  for (const auto& ch : c.changes) {
    if (ch.bytes.empty()) (ch.kind == engine::EntityKind::kLead ? leads : accounts).insert(ch.id);
  }
  if (leads.empty() && accounts.empty()) return Status::Ok();
  const std::string prefix = Prefix(c.partition, 'U');
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    const auto u = DecodeUnmatched(std::string_view(it->value().data(), it->value().size()));
    if (!u) return Status::Corruption("bad unmatched outcome");
    if ((!u->lead_id.empty() && leads.count(u->lead_id)) || accounts.count(u->account_id)) {
      part.push_back({it->key().ToString(), std::nullopt});
    }
  }
  return FromRocks(it->status(), "erase unmatched outcomes");
}

Status StateStore::StageRoutings(const PartitionCommit& c, std::vector<ChangelogOp>& part) const {
  const int64_t cutoff = Cutoff(c.stream_time_ms, options_.routing_retention_ms);
  const int32_t p = c.partition;
  for (const RoutingRecord& r : c.routings) {
    if (r.occurred_at_ms < cutoff) continue;  // already past retention: the sweep would not see it
    std::string entity_key = RoutingEntityKey(p, r.entity, r.entity_id, r.occurred_at_ms, r.seq);
    part.push_back({RoutingKey(p, r.routing_id), r.bytes});
    part.push_back({RoutingTimeKey(p, r.occurred_at_ms, r.seq, r.routing_id), entity_key});
    part.push_back({std::move(entity_key), std::string(1, r.up ? 'U' : 'D') + r.routing_id});
  }
  if (!c.routings.empty()) part.push_back({Key(p, 'M', "routing_seq"), I64(static_cast<int64_t>(c.routing_seq))});
  for (const auto& [id, bytes] : c.routings_answered) part.push_back({RoutingKey(p, id), bytes});
  for (const UnmatchedRecord& u : c.unmatched) {
    if (u.occurred_at_ms >= cutoff) part.push_back({UnmatchedKey(p, u.occurred_at_ms, u.source), EncodeUnmatched(u)});
  }
  // An erased lead or account (Forget) leaves no routing snapshot of its own behind.
  for (const auto& ch : c.changes) {
    if (!ch.bytes.empty()) continue;
    const std::string prefix = RoutingEntityPrefix(p, ch.kind, ch.id);
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      const std::string_view key(it->key().data(), it->key().size());
      const std::string_view value(it->value().data(), it->value().size());
      if (key.size() != prefix.size() + kTimeSeq || value.empty()) return Status::Corruption("bad routing index key");
      const std::string_view at = key.substr(prefix.size()), id = value.substr(1);
      part.push_back({std::string(key), std::nullopt});
      part.push_back({RoutingTimeKey(p, GetTime(at), GetU64(at.substr(8)), id), std::nullopt});
      part.push_back({RoutingKey(p, id), std::nullopt});
    }
    LEADSCORE_RETURN_IF_ERROR(FromRocks(it->status(), "erase routing snapshots"));
  }
  LEADSCORE_RETURN_IF_ERROR(EraseUnmatched(c, part));
  if (cutoff == INT64_MIN) return Status::Ok();

  // The sweep: two ranges from the start of time to the cutoff, deleted after the puts
  // above (a snapshot answered in this batch and expired in it goes too).
  for (const char kind : {'W', 'U'}) {
    const std::string begin = Prefix(p, kind), end = TimeBound(p, kind, cutoff);
    rocksdb::ReadOptions ro;
    const rocksdb::Slice upper(end);
    ro.iterate_upper_bound = &upper;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro));
    for (it->Seek(begin); it->Valid(); it->Next()) {
      const std::string_view key(it->key().data(), it->key().size());
      part.push_back({std::string(key), std::nullopt});
      if (kind == 'U') continue;
      if (key.size() < begin.size() + kTimeSeq) return Status::Corruption("bad routing time key");
      part.push_back({it->value().ToString(), std::nullopt});  // the entity index key
      part.push_back({RoutingKey(p, key.substr(begin.size() + kTimeSeq)), std::nullopt});
    }
    LEADSCORE_RETURN_IF_ERROR(FromRocks(it->status(), "sweep routing snapshots"));
  }
  return Status::Ok();
}

Result<std::optional<std::string>> StateStore::GetRouting(int32_t partition, std::string_view routing_id) const {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), RoutingKey(partition, routing_id), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  LEADSCORE_RETURN_IF_ERROR(FromRocks(s, "read routing snapshot"));
  return std::optional<std::string>(std::move(value));
}

Result<std::optional<RoutingRef>> StateStore::LatestUpRouting(int32_t partition, engine::EntityKind kind,
                                                              std::string_view entity_id, int64_t at_ms) const {
  const std::string prefix = RoutingEntityPrefix(partition, kind, entity_id);
  const std::string target = RoutingEntityKey(partition, kind, entity_id, at_ms, UINT64_MAX);
  rocksdb::ReadOptions ro;
  const rocksdb::Slice lower(prefix);
  ro.iterate_lower_bound = &lower;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro));
  // Back from the last key at or before the time: DOWN events are passed over.
  for (it->SeekForPrev(target); it->Valid() && it->key().starts_with(prefix); it->Prev()) {
    const std::string_view key(it->key().data(), it->key().size());
    const std::string_view value(it->value().data(), it->value().size());
    if (key.size() != prefix.size() + kTimeSeq || value.empty()) return Status::Corruption("bad routing index key");
    if (value[0] != 'U') continue;
    const std::string_view at = key.substr(prefix.size());
    return std::optional<RoutingRef>(RoutingRef{std::string(value.substr(1)), GetTime(at), GetU64(at.substr(8))});
  }
  LEADSCORE_RETURN_IF_ERROR(FromRocks(it->status(), "read routing index"));
  return std::optional<RoutingRef>();
}

Status StateStore::ForEachRouting(int32_t partition, const std::function<Status(std::string_view)>& fn) const {
  const std::string prefix = Prefix(partition, 'W');
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    if (it->key().size() < prefix.size() + kTimeSeq) return Status::Corruption("bad routing time key");
    const std::string_view id(it->key().data() + prefix.size() + kTimeSeq, it->key().size() - prefix.size() - kTimeSeq);
    auto bytes = GetRouting(partition, id);
    if (!bytes.ok()) return bytes.status();
    if (!*bytes) continue;  // swept by a commit meanwhile
    LEADSCORE_RETURN_IF_ERROR(fn(**bytes));
  }
  return FromRocks(it->status(), "read routing snapshots");
}

Status StateStore::ForEachUnmatched(int32_t partition, const std::function<Status(std::string_view)>& fn) const {
  const std::string prefix = Prefix(partition, 'U');
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    const auto u = DecodeUnmatched(std::string_view(it->value().data(), it->value().size()));
    if (!u) return Status::Corruption("bad unmatched outcome");
    LEADSCORE_RETURN_IF_ERROR(fn(u->bytes));
  }
  return FromRocks(it->status(), "read unmatched outcomes");
}

Result<std::vector<int32_t>> StateStore::StoredPartitions() const {
  std::vector<int32_t> partitions;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->SeekToFirst(); it->Valid();) {
    if (it->key().size() < 4) return Status::Corruption("a state key without a partition");
    const uint32_t p = GetU32(std::string_view(it->key().data(), 4));
    partitions.push_back(static_cast<int32_t>(p));
    if (p >= static_cast<uint32_t>(INT32_MAX)) break;
    it->Seek(PartitionBegin(static_cast<int32_t>(p) + 1));
  }
  LEADSCORE_RETURN_IF_ERROR(FromRocks(it->status(), "list partitions"));
  return partitions;
}

}  // namespace leadscore::store
