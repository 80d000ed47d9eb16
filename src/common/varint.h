// LEB128 varints: the compact encoding of the state's bytes (engine/snapshot.h) and of
// whole profiles (model/profile.h).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace leadscore {

inline void PutVarint(std::string& out, uint64_t v) {
  for (; v >= 0x80; v >>= 7) out.push_back(static_cast<char>((v & 0x7f) | 0x80));
  out.push_back(static_cast<char>(v));
}

// Takes one varint from the front of `in`; false (and `in` consumed up to the fault)
// when it is cut short or holds more than 64 bits.
inline bool GetVarint(std::string_view& in, uint64_t* v) {
  *v = 0;
  for (int shift = 0; shift < 64 && !in.empty(); shift += 7) {
    const auto byte = static_cast<uint8_t>(in.front());
    in.remove_prefix(1);
    if (shift == 63 && byte > 1) return false;  // more than 64 bits
    *v |= uint64_t{byte & 0x7fu} << shift;
    if (!(byte & 0x80)) return true;
  }
  return false;
}

}  // namespace leadscore
