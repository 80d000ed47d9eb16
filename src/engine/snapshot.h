// The binary form of one entity's state, for the state store. Little-endian, fixed
// widths, a version byte first. Internal to src/engine/.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>

namespace leadscore::engine {

// 2: fields written member by member. 3: a lead's held runs (the burst filter) at its
// end. 4: sales feedback. 5: by name, sums in events, whole profiles (snapshot_codec.h;
// engine::kStateFormat 5 is this layout). 6: as 5, with an account's committee-role
// crossings at its end (read from 5 as not solved yet: no rewrite is needed).
constexpr uint8_t kSnapshotVersion = 6;
constexpr uint8_t kOldestSnapshotVersion = 2;

class SnapshotWriter {
 public:
  template <typename T>
  void Put(T v) {
    static_assert(std::is_trivially_copyable_v<T>);
    out_.append(reinterpret_cast<const char*>(&v), sizeof v);
  }
  void PutString(std::string_view s) {
    Put<uint32_t>(static_cast<uint32_t>(s.size()));
    out_.append(s);
  }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

class SnapshotReader {
 public:
  explicit SnapshotReader(std::string_view in) : in_(in) {}
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
  std::string GetString() {
    const uint32_t n = Get<uint32_t>();
    if (!ok_ || in_.size() < n) {
      ok_ = false;
      return {};
    }
    std::string s(in_.substr(0, n));
    in_.remove_prefix(n);
    return s;
  }
  // Counts read from the bytes are bounded by what is left, so corrupt input cannot
  // make a huge allocation.
  uint32_t GetCount(size_t min_bytes_each) {
    const uint32_t n = Get<uint32_t>();
    if (!ok_ || static_cast<uint64_t>(n) * min_bytes_each > in_.size()) {
      ok_ = false;
      return 0;
    }
    return n;
  }
  bool ok() const { return ok_ && in_.empty(); }
  bool good() const { return ok_; }
  size_t left() const { return in_.size(); }

 private:
  std::string_view in_;
  bool ok_ = true;
};

}  // namespace leadscore::engine
