// The blocks of interned names (ids.h), each exactly as long as its name needs, cut
// from chunks of 64 KiB. Internal to src/engine/ (IdTable).
//
// Why not a heap block each: jemalloc rounds a block up to its size classes (16-byte
// steps here), so a 17-character name's 18 bytes took 32, and glibc adds a 16-byte
// header instead (the benchmark's engine row: 372 -> 359 B resident an entity).
//
// A freed block goes on a list of blocks of its size and is given out again for the
// next name of that size. Ids are mostly of one length or a few (a CRM's, a
// generator's), so a table whose entities come and go (the hot set's evictions) reuses
// its blocks; a size never asked for again keeps its freed blocks until the table goes.
// Blocks larger than kLargest, rare, are allocated on their own.
#pragma once

#include <cstddef>
#include <memory>
#include <unordered_map>
#include <utility>
#include <vector>

namespace leadscore::engine {

class NameSlab {
 public:
  static constexpr size_t kChunkBytes = size_t{64} << 10;
  static constexpr size_t kLargest = 512;

  NameSlab() = default;
  NameSlab(const NameSlab&) = delete;
  NameSlab& operator=(const NameSlab&) = delete;
  NameSlab(NameSlab&& o) noexcept
      : chunks_(std::move(o.chunks_)),
        next_(std::exchange(o.next_, nullptr)),
        left_(std::exchange(o.left_, 0)),
        free_(std::move(o.free_)),
        large_(std::move(o.large_)) {}
  NameSlab& operator=(NameSlab&& o) noexcept {
    if (this != &o) {
      chunks_ = std::move(o.chunks_);
      next_ = std::exchange(o.next_, nullptr);
      left_ = std::exchange(o.left_, 0);
      free_ = std::move(o.free_);
      large_ = std::move(o.large_);
    }
    return *this;
  }

  // `bytes` > 0. The block stays where it is until freed.
  char* Allocate(size_t bytes) {
    if (bytes > kLargest) {
      auto block = std::unique_ptr<char[]>(new char[bytes]);
      char* p = block.get();
      large_.emplace(p, std::move(block));
      return p;
    }
    if (bytes < free_.size() && !free_[bytes].empty()) {
      char* p = free_[bytes].back();
      free_[bytes].pop_back();
      return p;
    }
    if (left_ < bytes) {
      chunks_.push_back(std::unique_ptr<char[]>(new char[kChunkBytes]));  // not zeroed: touched as names fill it
      next_ = chunks_.back().get();
      left_ = kChunkBytes;
    }
    char* p = next_;
    next_ += bytes;
    left_ -= bytes;
    return p;
  }

  // A block Allocate gave for the same `bytes`.
  void Free(char* p, size_t bytes) {
    if (bytes > kLargest) {
      large_.erase(p);
      return;
    }
    if (free_.size() <= bytes) free_.resize(bytes + 1);
    free_[bytes].push_back(p);
  }

  // What a block of `bytes` costs: the block itself, or a heap block's (with the
  // allocation's header, as IdTable::kAllocationHeader estimates it) when it is large.
  static size_t CostOf(size_t bytes, size_t allocation_header) {
    return bytes > kLargest ? bytes + allocation_header : bytes;
  }

 private:
  std::vector<std::unique_ptr<char[]>> chunks_;
  char* next_ = nullptr;  // the rest of the newest chunk
  size_t left_ = 0;
  std::vector<std::vector<char*>> free_;  // by size
  std::unordered_map<char*, std::unique_ptr<char[]>> large_;
};

}  // namespace leadscore::engine
