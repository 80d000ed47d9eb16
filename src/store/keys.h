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

// Timer keys sort by due time: the sign bit flipped makes signed order unsigned.
inline std::string TimerKey(int32_t partition, int64_t due, engine::EntityKind kind, std::string_view id) {
  std::string k = Prefix(partition, 'T');
  PutU64(k, static_cast<uint64_t>(due) ^ (uint64_t{1} << 63));
  k += KindByte(kind);
  k.append(id);
  return k;
}

inline std::string OutboxKey(int32_t partition, uint64_t seq) {
  std::string k = Prefix(partition, 'X');
  PutU64(k, seq);
  return k;
}

inline std::string I64(int64_t v) { return std::string(reinterpret_cast<const char*>(&v), sizeof v); }

inline int64_t ReadI64(std::string_view v) {
  int64_t x;
  std::memcpy(&x, v.data(), sizeof x);
  return x;
}

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
