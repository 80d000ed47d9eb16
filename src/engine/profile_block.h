// An entity's profile in one heap block: the model's slots (what conditions read on
// every event) and, after them, the whole profile's bytes (model/profile.h: every
// field, read when the entity is stored, loaded, or re-evaluated under another model).
// Internal to src/engine/ (EntityCommon::profile).
//
// Why one block behind one pointer: a vector of slots and a string took 56 B of every
// lead's and account's record and two heap blocks; this takes 8 B and one block (the
// benchmark's engine row measures what an entity costs resident).
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

#include "engine/prefetch.h"
#include "model/condition.h"

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
    Header* h = Allocate(n, whole.size());
    const size_t given = std::min(slots.size(), n);
    if (given) std::memcpy(SlotsOf(h), slots.data(), given * sizeof(Slot));
    for (size_t i = given; i < n; ++i) new (SlotsOf(h) + i) Slot();
    if (!whole.empty()) std::memcpy(WholeOf(h), whole.data(), whole.size());
    Reset(h);
  }
  void clear() { Reset(nullptr); }

  // None (and a null data()) without slots: conditions on an unknown profile are false.
  std::span<const Slot> slots() const {
    if (!p_ || p_->n_slots == 0) return {};
    return {SlotsOf(p_), p_->n_slots};
  }
  const Slot& slot(size_t i) const {
    assert(p_ && i < p_->n_slots);
    return SlotsOf(p_)[i];
  }
  std::string_view whole() const { return p_ ? std::string_view(WholeOf(p_), p_->whole_size) : std::string_view(); }

  // A hint (engine/prefetch.h) for what conditions read first: the block's first two
  // lines, its header and first slots (a lead of the example model has five: 88 B).
  // Reads nothing, not even the header, so that a pass of hints does not wait on it.
  void Prefetch() const {
    if (p_) PrefetchLines(p_, 2 * kCacheLine);
  }
  // Reads ahead (LoadLines) the whole block, as encoding reads it.
  uint64_t Load() const { return p_ ? LoadLines(p_, BlockBytes()) : 0; }

  // The block's bytes (what its allocation holds), for the hot set's estimate.
  size_t BlockBytes() const { return p_ ? Size(p_->n_slots, p_->whole_size) : 0; }

 private:
  struct Header {
    uint32_t n_slots;
    uint32_t whole_size;
  };
  static_assert(sizeof(Header) % alignof(Slot) == 0, "the slots follow the header aligned");

  static size_t Size(size_t n_slots, size_t whole_size) { return sizeof(Header) + n_slots * sizeof(Slot) + whole_size; }
  static Slot* SlotsOf(Header* h) { return reinterpret_cast<Slot*>(h + 1); }
  static const Slot* SlotsOf(const Header* h) { return reinterpret_cast<const Slot*>(h + 1); }
  static char* WholeOf(Header* h) { return reinterpret_cast<char*>(SlotsOf(h) + h->n_slots); }
  static const char* WholeOf(const Header* h) { return reinterpret_cast<const char*>(SlotsOf(h) + h->n_slots); }

  static Header* Allocate(size_t n_slots, size_t whole_size) {
    void* p = std::malloc(Size(n_slots, whole_size));
    if (!p) throw std::bad_alloc();
    auto* h = static_cast<Header*>(p);
    h->n_slots = static_cast<uint32_t>(n_slots);
    h->whole_size = static_cast<uint32_t>(whole_size);
    return h;
  }
  static Header* Copy(const Header& from) {
    Header* h = Allocate(from.n_slots, from.whole_size);
    std::memcpy(h + 1, &from + 1, Size(from.n_slots, from.whole_size) - sizeof(Header));
    return h;
  }
  void Reset(Header* h) {
    std::free(p_);
    p_ = h;
  }

  Header* p_ = nullptr;
};

}  // namespace leadscore::engine
