// A field's value as conditions see it (FieldValue), and where they read a source's
// values (SlotView): an array of FieldValue, as an event's attributes are made for the
// one event, or slots packed as every lead and account keeps its profile's in memory.
//
// Packed slots: one 4-byte word per slot, then the values no word holds, 13 B each:
//   word 0                 FieldValue{} (not present)
//   word (s + 1) << 2 | 1  present, symbol s (kOtherSymbol: 0), no number
//   word i << 2 | 2        the i-th value after the words, byte for byte
// Every value reads back exactly as it was packed. Why: a lead of the example model has
// five slots, all texts (role, seniority, title, country, email domain); at 13 B each
// they were 65 B of its profile block, which put the block in the allocator's 128 B
// class; as words they are 20 B and the block fits 80 B (README, Performance).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

namespace leadscore::model {

constexpr int32_t kOtherSymbol = -1;

// Packed, 13 B instead of 16: events carry one per attribute slot of the model and a
// profile's values that are numbers are kept this way (packed slots, above). x86-64
// reads the unaligned number as fast as an aligned one that stays on its cache line.
struct __attribute__((packed)) FieldValue {
  bool present : 1 = false;
  bool has_number : 1 = false;
  int32_t symbol = kOtherSymbol;  // model constant it equals, or kOtherSymbol
  double number = 0;
};
static_assert(sizeof(FieldValue) == 13, "two flags, a symbol and a number, no padding");

namespace packed_slots {
constexpr size_t kWordBytes = 4;
constexpr uint32_t kInline = 1, kAfter = 2;
// Symbols up to this fit a word (a model has far fewer constants; larger ones go after).
constexpr int64_t kLargestInlineSymbol = (int64_t{1} << 30) - 2;

inline bool FitsAWord(const FieldValue& v) {
  return v.present && !v.has_number && v.number == 0 && v.symbol >= kOtherSymbol &&
         v.symbol <= kLargestInlineSymbol;
}
inline bool IsDefault(const FieldValue& v) {
  return !v.present && !v.has_number && v.symbol == kOtherSymbol && v.number == 0;
}
// The bytes `values` take packed.
inline size_t Bytes(std::span<const FieldValue> values) {
  size_t bytes = values.size() * kWordBytes;
  for (const FieldValue& v : values) {
    if (!IsDefault(v) && !FitsAWord(v)) bytes += sizeof(FieldValue);
  }
  return bytes;
}
// Packs `values` into `out` (Bytes(values) of room), followed by `n_default` more slots
// not present.
inline void Write(std::span<const FieldValue> values, size_t n_default, unsigned char* out) {
  unsigned char* after = out + (values.size() + n_default) * kWordBytes;
  uint32_t n_after = 0;
  for (const FieldValue& v : values) {
    uint32_t word = 0;
    if (FitsAWord(v)) {
      word = static_cast<uint32_t>(v.symbol + 1) << 2 | kInline;
    } else if (!IsDefault(v)) {
      std::memcpy(after + size_t{n_after} * sizeof(FieldValue), &v, sizeof(FieldValue));
      word = n_after++ << 2 | kAfter;
    }
    std::memcpy(out, &word, kWordBytes);
    out += kWordBytes;
  }
  std::memset(out, 0, n_default * kWordBytes);
}
// The bytes after `n` slots' words: how many values follow them.
inline size_t AfterBytes(const unsigned char* words, size_t n) {
  size_t bytes = 0;
  for (size_t i = 0; i < n; ++i) {
    uint32_t word;
    std::memcpy(&word, words + i * kWordBytes, kWordBytes);
    if ((word & 3) == kAfter) bytes += sizeof(FieldValue);
  }
  return bytes;
}
}  // namespace packed_slots

// A source's values for conditions; none (the default, or null values): an unknown profile.
class SlotView {
 public:
  SlotView() = default;
  SlotView(const FieldValue* values) : p_(values) {}  // NOLINT: an event's attributes, or null
  // `n` (at least one) packed slots from `words` (packed_slots::Write).
  static SlotView Packed(const unsigned char* words, size_t n) {
    SlotView v;
    v.p_ = words;
    v.n_packed_ = static_cast<uint32_t>(n);
    return v;
  }

  bool known() const { return p_ != nullptr; }

  FieldValue operator[](size_t slot) const {
    if (n_packed_ == 0) return static_cast<const FieldValue*>(p_)[slot];
    const auto* words = static_cast<const unsigned char*>(p_);
    uint32_t word;
    std::memcpy(&word, words + slot * packed_slots::kWordBytes, packed_slots::kWordBytes);
    FieldValue v;
    if ((word & 3) == packed_slots::kInline) {
      v.present = true;
      v.symbol = static_cast<int32_t>(word >> 2) - 1;
    } else if ((word & 3) == packed_slots::kAfter) {
      const unsigned char* after = words + size_t{n_packed_} * packed_slots::kWordBytes;
      std::memcpy(&v, after + size_t{word >> 2} * sizeof(FieldValue), sizeof(FieldValue));
    }
    return v;
  }

 private:
  // Values (n_packed_ 0) or packed words; null: none. 16 B: a condition's context
  // holds three.
  const void* p_ = nullptr;
  uint32_t n_packed_ = 0;
};

}  // namespace leadscore::model
