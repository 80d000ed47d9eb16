// Stable 64-bit hashing for ids, dedupe keys, routing ids and the model version.
// Stable across builds and platforms (the values are persisted and published), so no
// std::hash. FNV-1a with a final avalanche (splitmix64) for good bit spread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace leadscore {

inline uint64_t Mix64(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

// Incremental hasher: feed fields, read the digest. Fields are length-prefixed so
// ("ab","c") and ("a","bc") differ.
class Hasher {
 public:
  explicit Hasher(uint64_t seed = 0) : h_(0xcbf29ce484222325ULL ^ Mix64(seed)) {}
  Hasher& Bytes(std::string_view s) {
    Int(s.size());
    for (unsigned char c : s) {
      h_ ^= c;
      h_ *= 0x100000001b3ULL;
    }
    return *this;
  }
  Hasher& Int(uint64_t v) {
    for (int i = 0; i < 8; ++i) {
      h_ ^= (v >> (i * 8)) & 0xff;
      h_ *= 0x100000001b3ULL;
    }
    return *this;
  }
  uint64_t Digest() const { return Mix64(h_); }

 private:
  uint64_t h_;
};

inline uint64_t Hash64(std::string_view s, uint64_t seed = 0) {
  return Hasher(seed).Bytes(s).Digest();
}

// A digest as text: its 16 lowercase hex digits, most significant first, appended to
// `out` (what printf's "%016llx" prints; routing ids, the model version's hash).
inline void AppendHex(std::string& out, uint64_t v) {
  for (int shift = 60; shift >= 0; shift -= 4) out.push_back("0123456789abcdef"[(v >> shift) & 0xf]);
}

}  // namespace leadscore
