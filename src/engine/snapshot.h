// The binary form of one entity's state, for the state store: a version byte first,
// then the layout of snapshot_codec.h in one of two encodings. Internal to src/engine/.
//
// Fixed (versions 2-6): little-endian, fixed widths; a string or list is a u32 count.
// Compact (version 7 on): the same items, but every whole number the layout gives as
// an unsigned or signed integer, count or string length is a varint (LEB128; signed
// ones zigzag), and a time is a varint relative to the entity's clock (Time below).
// Doubles, digests and event keys stay 8 fixed bytes: they have no small values.
// Routing ids are hex text: their bytes (PutHexOrText).
// An entity's bytes are written once per commit and read once per load; the compact
// encoding is a third smaller than the fixed one (a lead of the simulated market 239 B
// against 384 B: bench/HISTORY.md; version 9, without slots and with the profile's
// fields by number, a quarter smaller again), and the store's costs per byte (WAL,
// memtable, compaction, block cache, the changelog) follow.
#pragma once

#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>

#include "common/varint.h"

namespace leadscore::engine {

// 2: fields written member by member. 3: a lead's held runs (the burst filter) at its
// end. 4: sales feedback. 5: by name, sums in events, whole profiles (snapshot_codec.h;
// engine::kStateFormat 5 is this layout). 6: as 5, with an account's committee-role
// crossings at its end (read from 5 as not solved yet: no rewrite is needed).
// 7: as 6, in the compact encoding (read from 5 and 6 as they are: no rewrite either).
// 8: as 7; a whole profile written since has its fixed fields by number
// (model/profile.h), one kept from before stays as it was written. The version tells a
// build that reads only named fields to refuse the entity, rather than read it as having
// no profile.
// 9: as 8, without the slots: loading reads them from the whole profile, as a model
// change always did. 5 to 8 are read as they are: no rewrite.
// 10: as 9, an account's role sums grouped by role, each signal by its place among the
// signals written before them, and its contacts' and leads' ids front-coded
// (PutFrontCoded): an account of the simulated market 632 -> 359 B on average.
constexpr uint8_t kSnapshotVersion = 10;
constexpr uint8_t kFirstVersionWithoutSlots = 9;
constexpr uint8_t kFirstVersionGroupingRoleSums = 10;  // and front-coding an account's ids
constexpr uint8_t kOldestSnapshotVersion = 2;
constexpr uint8_t kFirstCompactVersion = 7;
constexpr bool IsCompactVersion(uint8_t version) { return version >= kFirstCompactVersion; }

// Times near the entity's clock are a few bytes as a signed distance from it. The one
// time far from any clock that entities keep is "never" (int64 min: no suppression, no
// event yet): it is code 0, and any other time is its distance's zigzag plus one. The
// single time whose code that would overflow (the clock plus int64 min, wrapping) takes
// the code "never" would have had, so every int64 time has exactly one code.
struct TimeCode {
  static constexpr int64_t kNeverCode = std::numeric_limits<int64_t>::min();
  static uint64_t ZigZag(int64_t v) { return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63); }
  static int64_t UnZigZag(uint64_t u) { return static_cast<int64_t>((u >> 1) ^ (~(u & 1) + 1)); }
  static int64_t Distance(int64_t t, int64_t base) {
    return static_cast<int64_t>(static_cast<uint64_t>(t) - static_cast<uint64_t>(base));
  }
  static uint64_t Encode(int64_t t, int64_t base) {
    if (t == kNeverCode) return 0;
    const uint64_t code = ZigZag(Distance(t, base)) + 1;
    return code != 0 ? code : ZigZag(Distance(kNeverCode, base)) + 1;
  }
  static int64_t Decode(uint64_t code, int64_t base) {
    if (code == 0) return kNeverCode;
    if (code == ZigZag(Distance(kNeverCode, base)) + 1) return static_cast<int64_t>(static_cast<uint64_t>(base) + (uint64_t{1} << 63));
    return static_cast<int64_t>(static_cast<uint64_t>(base) + static_cast<uint64_t>(UnZigZag(code - 1)));
  }
};

class SnapshotWriter {
 public:
  explicit SnapshotWriter(bool compact = true) : compact_(compact) {}
  bool compact() const { return compact_; }

  // Fixed bytes in either encoding: versions, flags, doubles, digests, event keys.
  template <typename T>
  void Put(T v) {
    static_assert(std::is_trivially_copyable_v<T>);
    out_.append(reinterpret_cast<const char*>(&v), sizeof v);
  }
  // A whole number the fixed encoding writes as a T.
  template <typename T>
  void PutInt(T v) {
    static_assert(std::is_integral_v<T>);
    if (!compact_) return Put<T>(v);
    if constexpr (std::is_signed_v<T>) PutVarint(TimeCode::ZigZag(v));
    else PutVarint(v);
  }
  void PutCount(size_t n) { PutInt<uint32_t>(static_cast<uint32_t>(n)); }
  void PutTime(int64_t t, int64_t base) {
    if (compact_) PutVarint(TimeCode::Encode(t, base));
    else Put<int64_t>(t);
  }
  void PutString(std::string_view s) {
    PutCount(s.size());
    out_.append(s);
  }
  // A routing id (32 lowercase hex digits): compact, its 16 bytes, as any text of an
  // even number of lowercase hex digits; other text as PutString. The length's low bit
  // tells which.
  void PutHexOrText(std::string_view s) {
    if (!compact_) return PutString(s);
    const bool hex = s.size() % 2 == 0 && s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
    if (!hex) {
      PutVarint(uint64_t{s.size()} << 1);
      out_.append(s);
      return;
    }
    PutVarint((uint64_t{s.size() / 2} << 1) | 1);
    for (size_t i = 0; i < s.size(); i += 2) out_.push_back(static_cast<char>(Nibble(s[i]) << 4 | Nibble(s[i + 1])));
  }
  // From version 10, a list of ids: each as the length of the prefix it shares with the
  // one before (`prev`; empty for a list's first, written whole) as a varint, then the
  // rest as a string. Ids of one account's leads mostly share a long prefix.
  void PutFrontCoded(std::string_view prev, std::string_view s) {
    size_t shared = 0;
    while (shared < prev.size() && shared < s.size() && prev[shared] == s[shared]) ++shared;
    PutVarint(shared);
    PutString(s.substr(shared));
  }
  std::string Take() { return std::move(out_); }

 private:
  static uint8_t Nibble(char c) { return static_cast<uint8_t>(c <= '9' ? c - '0' : c - 'a' + 10); }
  void PutVarint(uint64_t v) { leadscore::PutVarint(out_, v); }

  std::string out_;
  bool compact_;
};

class SnapshotReader {
 public:
  explicit SnapshotReader(std::string_view in, bool compact = false) : in_(in), compact_(compact) {}
  // After the version byte: the encoding that version was written in.
  void SetVersion(uint8_t version) { compact_ = IsCompactVersion(version); }
  bool compact() const { return compact_; }

  template <typename T>
  T Get() {
    T v{};
    if (in_.size() < sizeof v) {
      ok_ = false;
      return v;
    }
    std::memcpy(&v, in_.data(), sizeof v);
    in_.remove_prefix(sizeof v);
    return v;
  }
  template <typename T>
  T GetInt() {
    static_assert(std::is_integral_v<T>);
    if (!compact_) return Get<T>();
    const uint64_t u = GetVarint();
    if constexpr (std::is_signed_v<T>) {
      const int64_t v = TimeCode::UnZigZag(u);
      if (v < std::numeric_limits<T>::min() || v > std::numeric_limits<T>::max()) ok_ = false;
      return static_cast<T>(v);
    } else {
      if (u > std::numeric_limits<T>::max()) ok_ = false;
      return static_cast<T>(u);
    }
  }
  int64_t GetTime(int64_t base) { return compact_ ? TimeCode::Decode(GetVarint(), base) : Get<int64_t>(); }
  std::string GetString() { return std::string(GetStringView()); }
  // The same, as a view of the bytes being read (valid while they are).
  std::string_view GetStringView() { return TakeBytes(GetInt<uint32_t>()); }
  std::string GetHexOrText() {
    if (!compact_) return GetString();
    const uint64_t code = GetVarint();
    const std::string_view bytes = TakeBytes(code >> 1);
    if (!(code & 1)) return std::string(bytes);
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string s;
    s.reserve(2 * bytes.size());
    for (const char c : bytes) {
      const auto byte = static_cast<uint8_t>(c);
      s.push_back(kDigits[byte >> 4]);
      s.push_back(kDigits[byte & 15]);
    }
    return s;
  }
  // PutFrontCoded's id; not good when it claims more of `prev` than there is, or is
  // longer than any id can be (limits.max_id_bytes is at most 1 MiB): each id costs at
  // most that beyond its own bytes, however the list was damaged.
  std::string GetFrontCoded(std::string_view prev) {
    constexpr size_t kLongestId = size_t{1} << 20;
    const uint64_t shared = GetVarint();
    if (shared > prev.size()) {
      ok_ = false;
      return {};
    }
    const std::string_view rest = TakeBytes(GetInt<uint32_t>());
    if (shared + rest.size() > kLongestId) {
      ok_ = false;
      return {};
    }
    std::string s(prev.substr(0, shared));
    s += rest;
    return s;
  }
  // Counts read from the bytes are bounded by what is left, so corrupt input cannot
  // make a huge allocation (each item takes at least `min_bytes_each` fixed, one compact).
  uint32_t GetCount(size_t min_bytes_each) {
    const uint32_t n = GetInt<uint32_t>();
    if (!ok_ || static_cast<uint64_t>(n) * (compact_ ? 1 : min_bytes_each) > in_.size()) {
      ok_ = false;
      return 0;
    }
    return n;
  }
  bool ok() const { return ok_ && in_.empty(); }
  bool good() const { return ok_; }
  size_t left() const { return in_.size(); }

 private:
  // The next n bytes; none, and not good, when fewer are left (or a read failed before).
  std::string_view TakeBytes(uint64_t n) {
    if (!ok_ || in_.size() < n) {
      ok_ = false;
      return {};
    }
    const std::string_view bytes = in_.substr(0, n);
    in_.remove_prefix(n);
    return bytes;
  }
  uint64_t GetVarint() {
    uint64_t v = 0;
    if (leadscore::GetVarint(in_, &v)) return v;
    ok_ = false;  // truncated, or more than 64 bits
    return 0;
  }

  std::string_view in_;
  bool ok_ = true;
  bool compact_;
};

}  // namespace leadscore::engine
