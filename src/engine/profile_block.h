// An entity's profile in one heap block: the model's slots, packed (what conditions
// read on every event: model/field_value.h), and after them the whole profile's bytes
// (model/profile.h: every field, read when the entity is stored, loaded, or
// re-evaluated under another model). Internal to src/engine/ (EntityCommon::profile).
//
// Why one block behind one pointer: a vector of slots and a string took 56 B of every
// lead's and account's record and two heap blocks; this takes 8 B and one block (the
// benchmark's engine row measures what an entity costs resident). Why packed: a slot
// that is a text is a 4-byte word, not a 13-byte value.
#pragma once

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <span>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "engine/prefetch.h"
#include "model/field_value.h"

namespace leadscore::engine {

class ProfileBlock {
 public:
  using Slot = model::FieldValue;
  static_assert(std::is_trivially_copyable_v<Slot>, "slots are copied as bytes");

  ProfileBlock() = default;
  ProfileBlock(const ProfileBlock& o) : p_(o.p_ ? Copy(*o.p_) : nullptr) {}
  ProfileBlock& operator=(const ProfileBlock& o) {
    if (this != &o) Reset(o.p_ ? Copy(*o.p_) : nullptr);
    return *this;
  }
  ProfileBlock(ProfileBlock&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
  ProfileBlock& operator=(ProfileBlock&& o) noexcept {
    if (this != &o) Reset(std::exchange(o.p_, nullptr));
    return *this;
  }
  ~ProfileBlock() { std::free(p_); }

  // The slots as given, then default (unknown) ones up to `n_slots` (0: as many as
  // given), and the whole profile's bytes. Nothing at all: no block.
  void Assign(std::span<const Slot> slots, size_t n_slots, std::string_view whole) {
    const size_t n = n_slots ? n_slots : slots.size();
    if (n == 0 && whole.empty()) {
      Reset(nullptr);
      return;
    }
    const std::span<const Slot> given = slots.first(std::min(slots.size(), n));
    const size_t slot_bytes = model::packed_slots::Bytes(given) + (n - given.size()) * model::packed_slots::kWordBytes;
    Header* h = Allocate(n, slot_bytes, whole.size());
    model::packed_slots::Write(given, n - given.size(), SlotsOf(h));
    if (!whole.empty()) std::memcpy(SlotsOf(h) + slot_bytes, whole.data(), whole.size());
    Reset(h);
  }
  void clear() { Reset(nullptr); }

  // None without slots: conditions on an unknown profile are false.
  model::SlotView view() const {
    if (!p_ || p_->n_slots == 0) return {};
    return model::SlotView::Packed(SlotsOf(p_), p_->n_slots);
  }
  size_t slot_count() const { return p_ ? p_->n_slots : 0; }
  Slot slot(size_t i) const {
    assert(p_ && i < p_->n_slots);
    return view()[i];
  }
  // The slots unpacked, for the rare paths that build another block from them.
  std::vector<Slot> Unpacked() const {
    std::vector<Slot> out(slot_count());
    for (size_t i = 0; i < out.size(); ++i) out[i] = slot(i);
    return out;
  }
  std::string_view whole() const { return p_ ? std::string_view(WholeOf(p_), p_->whole_size) : std::string_view(); }

  // A hint (engine/prefetch.h) for what conditions read first: the block's first two
  // lines, its header and slots (a lead of the example model has five: 28 B).
  // Reads nothing, not even the header, so that a pass of hints does not wait on it.
  void Prefetch() const {
    if (p_) PrefetchLines(p_, 2 * kCacheLine);
  }
  // Reads ahead (LoadLines) the whole block, as encoding reads it.
  uint64_t Load() const { return p_ ? LoadLines(p_, BlockBytes()) : 0; }

  // The block's bytes (what its allocation holds), for the hot set's estimate.
  size_t BlockBytes() const { return p_ ? Size(*p_) : 0; }

 private:
  // 8 B: the bytes of the values after the slots' words are counted from the words
  // when the whole profile is read (storing, loading), not kept in every block.
  struct Header {
    uint32_t n_slots;
    uint32_t whole_size;
  };

  static size_t SlotBytes(const Header& h) {
    return h.n_slots * model::packed_slots::kWordBytes + model::packed_slots::AfterBytes(SlotsOf(&h), h.n_slots);
  }
  static size_t Size(const Header& h) { return sizeof(Header) + SlotBytes(h) + h.whole_size; }
  static unsigned char* SlotsOf(Header* h) { return reinterpret_cast<unsigned char*>(h + 1); }
  static const unsigned char* SlotsOf(const Header* h) { return reinterpret_cast<const unsigned char*>(h + 1); }
  static const char* WholeOf(const Header* h) { return reinterpret_cast<const char*>(SlotsOf(h) + SlotBytes(*h)); }

  static Header* Allocate(size_t n_slots, size_t slot_bytes, size_t whole_size) {
    void* p = std::malloc(sizeof(Header) + slot_bytes + whole_size);
    if (!p) throw std::bad_alloc();
    auto* h = static_cast<Header*>(p);
    h->n_slots = static_cast<uint32_t>(n_slots);
    h->whole_size = static_cast<uint32_t>(whole_size);
    return h;
  }
  static Header* Copy(const Header& from) {
    void* p = std::malloc(Size(from));
    if (!p) throw std::bad_alloc();
    std::memcpy(p, &from, Size(from));
    return static_cast<Header*>(p);
  }
  void Reset(Header* h) {
    std::free(p_);
    p_ = h;
  }

  Header* p_ = nullptr;
};

}  // namespace leadscore::engine
