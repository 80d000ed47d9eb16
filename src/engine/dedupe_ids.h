// The event ids a lead remembers for dedupe (key, occurred_at), in the order they
// arrived. Internal to src/engine/ (LeadState::seen).
//
// Most leads remember a handful of ids, and a list scanned front to back is the fastest
// and smallest way to keep them. A lead that a scanner or a bot clicks for hours
// remembers up to EngineOptions::dedupe_max_ids_per_lead (1 024); scanned, every event
// of it cost a pass over a thousand ids, and forgetting the oldest moved all the others.
// From kIndexedFrom ids on, a lead's ids are also kept in an open-addressed set of keys
// (linear probing, deletion by backward shift), and the list is consumed from a head
// offset, so a hot lead's event costs the same few probes as a cold one's.
//
// What is remembered and in which order does not depend on whether a lead is indexed:
// the stored bytes are the list in arrival order either way.
//
// A lead at the cap forgets its oldest id at each new one, and from then on an event
// at or before the forgotten id's time is too late (`floor`). The floor and the index
// are what only such leads need: they are kept apart, in an `Overflow` the list's
// block points to (its header's word, compact_vector.h), so that this set is one
// pointer in every lead's record.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "engine/compact_vector.h"
#include "engine/prefetch.h"

namespace leadscore::engine {

class DedupeIds {
 public:
  using Entry = std::pair<uint64_t, int64_t>;  // event key, occurred_at_ms
  static constexpr size_t kIndexedFrom = 32;
  static constexpr int64_t kNoFloor = std::numeric_limits<int64_t>::min();

  DedupeIds() = default;
  DedupeIds(DedupeIds&&) noexcept = default;  // leaves `other` empty, without an index or a floor
  DedupeIds& operator=(DedupeIds&&) noexcept = default;
  DedupeIds(const DedupeIds& other) : entries_(other.begin(), other.end()) {
    RaiseFloor(other.floor());
    Reindex();
  }
  DedupeIds& operator=(const DedupeIds& other) {
    if (this != &other) *this = DedupeIds(other);
    return *this;
  }

  size_t size() const { return entries_.size() - head(); }
  bool empty() const { return size() == 0; }
  const Entry* begin() const { return entries_.data() + head(); }
  const Entry* end() const { return entries_.data() + entries_.size(); }
  const Entry& front() const { return *begin(); }

  bool Contains(uint64_t key) const {
    if (const Index* index = index_of()) return index->Contains(key);
    return std::any_of(begin(), end(), [key](const Entry& e) { return e.first == key; });
  }

  // Events at or before it are too late for this lead: the time of the latest id it
  // forgot at the cap (ForgetOldest), or kNoFloor.
  int64_t floor() const {
    const Overflow* o = entries_.word().get();
    return o ? o->floor : kNoFloor;
  }
  // A floor from elsewhere (the stored state, a handoff's other half): the later one holds.
  void RaiseFloor(int64_t at) {
    if (at > floor()) MutableOverflow().floor = at;
  }

  // A hint (engine/prefetch.h): what Contains reads first, the list's block (its
  // first four lines; the index, for the few leads that have one, is behind it).
  // Reads only this object. Four, not a list's usual two: Contains scans the whole
  // list, and the block's header puts a list of a few ids across a third line (at 1 M
  // leads, a two-line hint left the engine row about a tenth slower: README,
  // Performance, 2026-12-07, late morning).
  void Prefetch() const { entries_.Prefetch(kElementsAheadBytes / 2); }

  // Reads ahead (LoadElements) what iterating the list reads first.
  uint64_t LoadEntries() const { return LoadElements(begin(), size()); }

  // Appends an id the lead does not remember yet: the caller checks Contains first (the
  // index holds each key once, so a repeated one would leave it out of step).
  void Add(uint64_t key, int64_t at) {
    if (Index* index = index_of()) {
      index->sorted = index->sorted && (empty() || entries_.back().second <= at);
      index->Insert(key);
    }
    entries_.emplace_back(key, at);
    if (!index_of() && size() >= kIndexedFrom) Reindex();
  }

  // Forgets every id at or before `horizon`.
  void ForgetUpTo(int64_t horizon) {
    Index* index = index_of();
    if (index && index->sorted) {
      // In time order: the ids to forget are a prefix.
      size_t n = 0;
      for (const Entry* e = begin(); e != end() && e->second <= horizon; ++e) ++n;
      DropFront(n);
      return;
    }
    Compact();
    erase_if(entries_, [&](const Entry& e) {
      if (e.second > horizon) return false;
      if (index) index->Erase(e.first);
      return true;
    });
    AfterErase();
  }

  // At the cap: forgets the id with the earliest time (the first of equals) and raises
  // the floor to its time; returns its time.
  int64_t ForgetOldest() {
    int64_t at = 0;
    Index* index = index_of();
    if (index && index->sorted) {
      at = front().second;
      DropFront(1);
    } else {
      Compact();
      auto oldest = std::min_element(entries_.begin(), entries_.end(), Earlier);
      at = oldest->second;
      if (index) index->Erase(oldest->first);
      entries_.erase(oldest);
      AfterErase();
    }
    RaiseFloor(at);
    return at;
  }

  // Heap bytes this set owns (state_bytes.h): its list's block, and the overflow and
  // its index's slots where it has them.
  size_t HeapBytes(size_t allocation_header) const {
    size_t bytes = entries_.BlockBytes() ? entries_.BlockBytes() + allocation_header : 0;
    if (entries_.word()) bytes += sizeof(Overflow) + allocation_header;
    if (const Index* index = index_of()) bytes += index->slots.capacity() * sizeof(uint64_t) + allocation_header;
    return bytes;
  }

 private:
  // The keys, for Contains; 0 marks an empty slot (a key that is 0 is kept apart).
  struct Index {
    std::vector<uint64_t> slots = std::vector<uint64_t>(64, 0);  // a power of two, at most half full
    size_t used = 0;
    bool has_zero = false;
    uint32_t head = 0;   // entries_ before it are forgotten (a short list is erased at once)
    bool sorted = true;  // the remembered ids are in time order: the oldest is the first

    size_t Home(uint64_t key) const { return (key * 0x9E3779B97F4A7C15ull) >> 32 & (slots.size() - 1); }
    bool Contains(uint64_t key) const {
      if (key == 0) return has_zero;
      for (size_t i = Home(key);; i = (i + 1) & (slots.size() - 1)) {
        if (slots[i] == key) return true;
        if (slots[i] == 0) return false;
      }
    }
    void Insert(uint64_t key) {
      if (key == 0) {
        has_zero = true;
        return;
      }
      if (2 * (used + 1) > slots.size()) Grow();
      size_t i = Home(key);
      while (slots[i] != 0 && slots[i] != key) i = (i + 1) & (slots.size() - 1);
      if (slots[i] == 0) ++used;
      slots[i] = key;
    }
    void Erase(uint64_t key) {
      if (key == 0) {
        has_zero = false;
        return;
      }
      const size_t mask = slots.size() - 1;
      size_t i = Home(key);
      while (slots[i] != key) {
        if (slots[i] == 0) return;
        i = (i + 1) & mask;
      }
      // Backward shift: a later key of the same run moves into the hole when its home
      // is not between the hole and it (cyclically), so no probe stops early.
      for (size_t j = (i + 1) & mask; slots[j] != 0; j = (j + 1) & mask) {
        const size_t home = Home(slots[j]);
        if (((j - home) & mask) >= ((j - i) & mask)) {
          slots[i] = slots[j];
          i = j;
        }
      }
      slots[i] = 0;
      --used;
    }
    void Grow() {
      std::vector<uint64_t> old = std::move(slots);
      slots.assign(2 * old.size(), 0);
      used = 0;
      for (uint64_t key : old) {
        if (key != 0) Insert(key);
      }
    }
  };

  // What only a lead at the cap or with many ids needs; it exists while either is set.
  struct Overflow {
    int64_t floor = kNoFloor;
    std::optional<Index> index;  // from kIndexedFrom ids on
  };

  static bool Earlier(const Entry& x, const Entry& y) { return x.second < y.second; }
  bool InTimeOrder() const { return std::is_sorted(begin(), end(), Earlier); }
  Index* index_of() const {
    Overflow* o = entries_.word().get();
    return o && o->index ? &*o->index : nullptr;
  }
  size_t head() const {
    const Index* index = index_of();
    return index ? index->head : 0;
  }
  Overflow& MutableOverflow() {
    std::unique_ptr<Overflow>& o = entries_.mutable_word();
    if (!o) o = std::make_unique<Overflow>();
    return *o;
  }
  void DropIndex() {
    if (Overflow* o = entries_.word().get()) {
      o->index.reset();
      if (o->floor == kNoFloor) entries_.mutable_word().reset();
    }
  }
  // Only when indexed (the prefix of a sorted set).
  void DropFront(size_t n) {
    Index& index = *index_of();
    for (size_t k = 0; k < n; ++k) index.Erase(entries_[index.head + k].first);
    index.head += static_cast<uint32_t>(n);
    if (index.head >= 64 && 2 * index.head >= entries_.size()) Compact();
    if (size() < kIndexedFrom / 2) {
      Compact();
      DropIndex();
    }
  }
  void Compact() {
    Index* index = index_of();
    if (!index || index->head == 0) return;
    entries_.erase(entries_.begin(), entries_.begin() + index->head);
    index->head = 0;
  }
  // Out of time order, ids were erased from anywhere in the list: whether the rest is in
  // order again (an O(n) pass, as the erase itself), and a short list drops its index.
  void AfterErase() {
    Index* index = index_of();
    if (!index) return;
    if (size() < kIndexedFrom / 2) {
      DropIndex();
      return;
    }
    index->sorted = InTimeOrder();
  }
  void Reindex() {
    Compact();
    DropIndex();
    if (size() < kIndexedFrom) return;
    // From a made Index, not emplace(): clang (the fuzz build) does not take a class
    // nested here, with default member initializers, as default-constructible.
    Index& index = MutableOverflow().index.emplace(Index{});
    index.sorted = InTimeOrder();
    for (const Entry& e : *this) index.Insert(e.first);
  }

  // The ids remembered, oldest arrival first (from the index's head); the overflow in
  // its block's header.
  CompactVector<Entry, std::unique_ptr<Overflow>> entries_;
};

}  // namespace leadscore::engine
