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
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

namespace leadscore::engine {

class DedupeIds {
 public:
  using Entry = std::pair<uint64_t, int64_t>;  // event key, occurred_at_ms
  static constexpr size_t kIndexedFrom = 32;

  DedupeIds() = default;
  DedupeIds(DedupeIds&& other) noexcept
      : entries_(std::move(other.entries_)),
        index_(std::move(other.index_)),
        head_(std::exchange(other.head_, 0)),
        sorted_(std::exchange(other.sorted_, true)) {
    other.entries_.clear();
  }
  DedupeIds& operator=(DedupeIds&& other) noexcept {
    entries_ = std::move(other.entries_);
    other.entries_.clear();
    index_ = std::move(other.index_);
    head_ = std::exchange(other.head_, 0);
    sorted_ = std::exchange(other.sorted_, true);
    return *this;
  }
  DedupeIds(const DedupeIds& other) : entries_(other.begin(), other.end()), sorted_(other.sorted_) { Reindex(); }
  DedupeIds& operator=(const DedupeIds& other) {
    if (this != &other) {
      entries_.assign(other.begin(), other.end());
      head_ = 0;
      sorted_ = other.sorted_;
      Reindex();
    }
    return *this;
  }

  size_t size() const { return entries_.size() - head_; }
  bool empty() const { return size() == 0; }
  const Entry* begin() const { return entries_.data() + head_; }
  const Entry* end() const { return entries_.data() + entries_.size(); }
  const Entry& front() const { return entries_[head_]; }

  bool Contains(uint64_t key) const {
    if (index_) return index_->Contains(key);
    return std::any_of(begin(), end(), [key](const Entry& e) { return e.first == key; });
  }

  // Appends an id the lead does not remember yet (the caller checked Contains).
  void Add(uint64_t key, int64_t at) {
    sorted_ = sorted_ && (empty() || entries_.back().second <= at);
    entries_.emplace_back(key, at);
    if (index_) index_->Insert(key);
    else if (size() >= kIndexedFrom) Reindex();
  }

  // Forgets every id at or before `horizon`.
  void ForgetUpTo(int64_t horizon) {
    if (sorted_) {
      // In time order: the ids to forget are a prefix.
      size_t n = 0;
      while (head_ + n < entries_.size() && entries_[head_ + n].second <= horizon) ++n;
      DropFront(n);
      return;
    }
    Compact();
    std::erase_if(entries_, [horizon](const Entry& e) { return e.second <= horizon; });
    Resort();
    Reindex();
  }

  // Forgets the id with the earliest time (the first of equals); returns its time.
  int64_t ForgetOldest() {
    if (sorted_) {
      const int64_t at = front().second;
      DropFront(1);
      return at;
    }
    auto oldest = std::min_element(entries_.begin() + static_cast<std::ptrdiff_t>(head_), entries_.end(),
                                   [](const Entry& x, const Entry& y) { return x.second < y.second; });
    const int64_t at = oldest->second;
    if (index_) index_->Erase(oldest->first);
    entries_.erase(oldest);
    Resort();
    return at;
  }

  // Heap bytes this set owns (state_bytes.h): its list's capacity and its index.
  size_t HeapBytes(size_t allocation_header) const {
    size_t bytes = entries_.capacity() ? entries_.capacity() * sizeof(Entry) + allocation_header : 0;
    if (index_) bytes += sizeof(Index) + index_->slots.capacity() * sizeof(uint64_t) + 2 * allocation_header;
    return bytes;
  }

 private:
  // The keys, for Contains; 0 marks an empty slot (a key that is 0 is kept apart).
  struct Index {
    std::vector<uint64_t> slots;  // a power of two, at most half full
    size_t used = 0;
    bool has_zero = false;

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
      slots.assign(std::max<size_t>(64, 2 * old.size()), 0);
      used = 0;
      for (uint64_t key : old) {
        if (key != 0) Insert(key);
      }
    }
  };

  void DropFront(size_t n) {
    if (index_) {
      for (size_t k = 0; k < n; ++k) index_->Erase(entries_[head_ + k].first);
    }
    head_ += n;
    if (!index_) Compact();  // a short list moves little
    else if (head_ >= 64 && 2 * head_ >= entries_.size()) Compact();
    if (index_ && size() < kIndexedFrom / 2) index_.reset();
  }
  void Compact() {
    entries_.erase(entries_.begin(), entries_.begin() + static_cast<std::ptrdiff_t>(head_));
    head_ = 0;
  }
  void Resort() {
    sorted_ = std::is_sorted(begin(), end(), [](const Entry& x, const Entry& y) { return x.second < y.second; });
  }
  void Reindex() {
    index_.reset();
    if (size() < kIndexedFrom) return;
    index_ = std::make_unique<Index>();
    for (const Entry& e : *this) index_->Insert(e.first);
  }

  std::vector<Entry> entries_;  // [head_, end): the ids remembered, oldest arrival first
  std::unique_ptr<Index> index_;  // from kIndexedFrom ids on
  uint32_t head_ = 0;
  bool sorted_ = true;  // [head_, end) is in time order
};

}  // namespace leadscore::engine
