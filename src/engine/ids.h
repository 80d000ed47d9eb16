// Interned ids: the engine works on dense integers, strings stay at the edge.
// Not thread-safe; owned by the engine's single processing thread.
//
// The names are kept once, in `names_` (indexed by id), each a block of its length
// (one byte below 255) and characters behind one pointer, cut to its size from the
// table's NameSlab (name_slab.h): a std::string took 32 B of every entity's name and a
// heap block of its own anyway beyond 15 characters (every simulated id, and most CRM
// ids, are longer); a name of 17 characters takes 8 B and 18.
// The lookup is an open-addressing table of 8-byte slots (32 bits of the name's hash,
// the id + 1; 0 is empty), probed linearly and kept at most 3/4 full, and a release
// closes its gap by shifting the slots after it back (no tombstones). A lookup reads
// one slot line and, on a hash match, the name: a node-based map reads a bucket, a
// node and the node's string.
#pragma once

#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/name_slab.h"

namespace leadscore::engine {

using EntityId = uint32_t;
constexpr EntityId kNoEntity = UINT32_MAX;

class IdTable {
 public:
  EntityId Intern(std::string_view id) {
    const uint32_t h = Hash(id);
    size_t i = h & mask_;
    for (; slots_[i] != 0; i = (i + 1) & mask_) {
      if (Matches(slots_[i], h, id)) return IdOf(slots_[i]);
    }
    EntityId n;
    if (!free_.empty()) {
      n = free_.back();
      free_.pop_back();
      names_[n] = Store(id);
    } else {
      n = static_cast<EntityId>(names_.size());
      names_.push_back(Store(id));
    }
    slots_[i] = Slot(h, n);
    if (++live_ * 4 > slots_.size() * 3) Grow();
    return n;
  }
  // Gives the id back for reuse: the caller guarantees nothing refers to it any more.
  void Release(EntityId id) {
    const uint32_t h = Hash(names_[id].text());
    size_t i = h & mask_;
    while (IdOf(slots_[i]) != id) i = (i + 1) & mask_;
    // Backward shift: an entry after the gap whose home is not between the gap and it
    // moves into the gap, so that every probe from its home still reaches it.
    for (size_t j = (i + 1) & mask_; slots_[j] != 0; j = (j + 1) & mask_) {
      const size_t home = static_cast<uint32_t>(slots_[j] >> 32) & mask_;
      if (((j - home) & mask_) >= ((j - i) & mask_)) {
        slots_[i] = slots_[j];
        i = j;
      }
    }
    slots_[i] = 0;
    --live_;
    if (names_[id].block) slab_.Free(names_[id].block, names_[id].BlockBytes());
    names_[id] = StoredName();
    free_.push_back(id);
  }
  EntityId Find(std::string_view id) const {
    const uint32_t h = Hash(id);
    for (size_t i = h & mask_; slots_[i] != 0; i = (i + 1) & mask_) {
      if (Matches(slots_[i], h, id)) return IdOf(slots_[i]);
    }
    return kNoEntity;
  }
  // The id's name; empty once released. Valid until the id is released.
  std::string_view Name(EntityId id) const { return names_[id].text(); }
  size_t size() const { return names_.size(); }  // highest id + 1
  size_t live() const { return live_; }
  // Reads ahead (engine/prefetch.h) the id's entry: the pointer to its name. Returns
  // what it read, for the caller to keep.
  uint64_t LoadEntry(EntityId id) const {
    if (id >= names_.size()) return 0;
    return reinterpret_cast<uintptr_t>(*static_cast<const volatile StoredName::Block*>(&names_[id].block));
  }
  // For estimates of memory (engine/state_bytes.h): an entry in `names_` per id, and a
  // name's block (name_slab.h).
  static constexpr size_t kEntryBytes = sizeof(void*);
  size_t NameHeapBytes(EntityId id) const {
    return names_[id].block ? NameSlab::CostOf(names_[id].BlockBytes(), kAllocationHeader) : 0;
  }
  // For estimates of the heap strings elsewhere own: libstdc++'s short-string buffer.
  static constexpr size_t kInlineChars = 15;
  // A block's cost beyond what it holds: glibc's header; jemalloc, the service's malloc,
  // has none but rounds up to its size classes, about as much at these sizes.
  static constexpr size_t kAllocationHeader = 16;

 private:
  static uint32_t Hash(std::string_view s) { return static_cast<uint32_t>(std::hash<std::string_view>{}(s)); }
  static uint64_t Slot(uint32_t h, EntityId id) { return uint64_t{h} << 32 | (uint64_t{id} + 1); }
  static EntityId IdOf(uint64_t slot) { return static_cast<EntityId>((slot & 0xffffffffu) - 1); }
  bool Matches(uint64_t slot, uint32_t h, std::string_view id) const {
    return static_cast<uint32_t>(slot >> 32) == h && names_[IdOf(slot)].text() == id;
  }
  void Grow() {
    std::vector<uint64_t> old(slots_.size() * 2, 0);
    old.swap(slots_);
    mask_ = slots_.size() - 1;
    for (uint64_t s : old) {
      if (s == 0) continue;
      size_t i = static_cast<uint32_t>(s >> 32) & mask_;
      while (slots_[i] != 0) i = (i + 1) & mask_;
      slots_[i] = s;
    }
  }

  std::vector<uint64_t> slots_ = std::vector<uint64_t>(16, 0);  // a power of two
  size_t mask_ = 15;
  size_t live_ = 0;
  // A name in a block of the slab: its length, then its characters (none: no block).
  // The length is one byte below kLongName, else kLongName and four bytes.
  struct StoredName {
    using Block = char*;
    static constexpr unsigned char kLongName = 255;
    static size_t PrefixBytes(size_t n) { return n < kLongName ? 1 : 1 + sizeof(uint32_t); }
    Block block = nullptr;
    std::string_view text() const {
      if (!block) return {};
      const auto first = static_cast<unsigned char>(block[0]);
      if (first < kLongName) return {block + 1, first};
      uint32_t n;
      std::memcpy(&n, block + 1, sizeof n);
      return {block + 1 + sizeof n, n};
    }
    size_t BlockBytes() const {
      const size_t n = text().size();
      return PrefixBytes(n) + n;
    }
  };
  StoredName Store(std::string_view text) {
    StoredName name;
    if (text.empty()) return name;
    const size_t n = text.size();
    const size_t prefix = StoredName::PrefixBytes(n);
    name.block = slab_.Allocate(prefix + n);
    if (n < StoredName::kLongName) {
      name.block[0] = static_cast<char>(n);
    } else {
      const auto n32 = static_cast<uint32_t>(n);
      name.block[0] = static_cast<char>(StoredName::kLongName);
      std::memcpy(name.block + 1, &n32, sizeof n32);
    }
    std::memcpy(name.block + prefix, text.data(), n);
    return name;
  }

  NameSlab slab_;  // before names_: the names point into it
  std::vector<StoredName> names_;
  std::vector<EntityId> free_;
};

}  // namespace leadscore::engine
