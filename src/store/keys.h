// The store's key layout (see state_store.h), shared by the store's own files. Internal
// to src/store/.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "engine/engine.h"

namespace leadscore::store::keys {

inline void PutU32(std::string& s, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) s += static_cast<char>(v >> shift);
}
inline void PutU64(std::string& s, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) s += static_cast<char>(v >> shift);
}
inline uint64_t GetU64(std::string_view s) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = v << 8 | static_cast<uint8_t>(s[i]);
  return v;
}
inline uint32_t GetU32(std::string_view s) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = v << 8 | static_cast<uint8_t>(s[i]);
  return v;
}

// Time in keys sorts as signed time does: the sign bit flipped makes signed order unsigned.
inline void PutTime(std::string& s, int64_t t) { PutU64(s, static_cast<uint64_t>(t) ^ (uint64_t{1} << 63)); }
inline int64_t GetTime(std::string_view s) { return static_cast<int64_t>(GetU64(s) ^ (uint64_t{1} << 63)); }

inline std::string Prefix(int32_t partition, char kind) {
  std::string k;
  PutU32(k, static_cast<uint32_t>(partition));
  k += kind;
  return k;
}

inline std::string Key(int32_t partition, char kind, std::string_view id) {
  std::string k = Prefix(partition, kind);
  k.append(id);
  return k;
}

inline char KindByte(engine::EntityKind kind) { return kind == engine::EntityKind::kLead ? 'L' : 'A'; }

// Timer keys sort by due time.
inline std::string TimerKey(int32_t partition, int64_t due, engine::EntityKind kind, std::string_view id) {
  std::string k = Prefix(partition, 'T');
  PutTime(k, due);
  k += KindByte(kind);
  k.append(id);
  return k;
}

inline std::string OutboxKey(int32_t partition, uint64_t seq) {
  std::string k = Prefix(partition, 'X');
  PutU64(k, seq);
  return k;
}

// Routing snapshots (state_store.h): the snapshot by routing_id, its place in time (the
// retention sweep is a range of these) and its place in its entity's history (the join
// by time is a seek-for-prev there). Ids never hold a NUL (the codec refuses them), so
// NUL ends an entity id and one entity's keys are never a prefix of another's.
inline std::string RoutingKey(int32_t partition, std::string_view routing_id) { return Key(partition, 'R', routing_id); }
inline std::string RoutingTimeKey(int32_t partition, int64_t at, uint64_t seq, std::string_view routing_id) {
  std::string k = Prefix(partition, 'W');
  PutTime(k, at);
  PutU64(k, seq);
  k.append(routing_id);
  return k;
}
inline std::string RoutingEntityPrefix(int32_t partition, engine::EntityKind kind, std::string_view entity_id) {
  std::string k = Prefix(partition, 'E');
  k += KindByte(kind);
  k.append(entity_id);
  k += '\0';
  return k;
}
inline std::string RoutingEntityKey(int32_t partition, engine::EntityKind kind, std::string_view entity_id, int64_t at,
                                    uint64_t seq) {
  std::string k = RoutingEntityPrefix(partition, kind, entity_id);
  PutTime(k, at);
  PutU64(k, seq);
  return k;
}
// Unmatched outcomes by time; `source` (the input record's topic and offset) keeps two
// at the same millisecond apart and makes a record applied again write the same key.
inline std::string UnmatchedKey(int32_t partition, int64_t at, std::string_view source) {
  std::string k = Prefix(partition, 'U');
  PutTime(k, at);
  k.append(source);
  return k;
}
// The first key of `kind` at or after time `at` (a sweep's bound).
inline std::string TimeBound(int32_t partition, char kind, int64_t at) {
  std::string k = Prefix(partition, kind);
  PutTime(k, at);
  return k;
}

inline std::string I64(int64_t v) { return std::string(reinterpret_cast<const char*>(&v), sizeof v); }

inline int64_t ReadI64(std::string_view v) {
  int64_t x;
  std::memcpy(&x, v.data(), sizeof x);
  return x;
}

// Memtable inserts keep a hint per key prefix of this many bytes (partition + kind;
// StateStore::Open). RocksDB 7.8 shares those hints between point keys and range
// deletions (facebook/rocksdb#5118, fixed upstream by #12558): a range deletion must
// start at a key shorter than this, as PartitionBegin's do, or a later put of its prefix
// could be linked into the wrong skip list.
inline constexpr size_t kInsertHintPrefixBytes = 5;

// Every key of a partition is in [PartitionBegin(p), PartitionBegin(p + 1)).
inline std::string PartitionBegin(int32_t partition) {
  std::string k;
  PutU32(k, static_cast<uint32_t>(partition));
  return k;
}

// The end of a committed batch, in the changelog only (store/changelog.h).
inline std::string MarkerKey(int32_t partition) { return Prefix(partition, '#'); }
// Where the partition's state is in its changelog: the offset after the last batch applied.
inline std::string ChangelogPositionKey(int32_t partition) { return Key(partition, 'M', "changelog"); }

}  // namespace leadscore::store::keys
