// A growable array whose size and capacity live in its heap block, so the record that
// owns it holds one pointer. Internal to src/engine/ (the lists of EntityCommon,
// LeadState and AccountState).
//
// Why not std::vector: a vector is three pointers, 24 B in the record whether or not it
// holds anything. A lead's record had three lists (its signal sums, its held runs, its
// dedupe ids) and an account's five; most of them hold a few elements or none. Here an
// empty list is a null pointer and allocates nothing, and a list in use costs an 8-byte
// header in its block, where the record saves 16 B.
//
// A block's capacity is what its allocation holds (malloc_usable_size), not what was
// asked for: the allocator rounds every request up to a size class, and the bytes past
// the request are room for the next elements rather than waste.
//
// What std::vector guarantees and this keeps: elements are contiguous, iterators are
// pointers, a reallocation invalidates them, capacity only grows (until
// shrink_to_fit). Element types must move without throwing (every element type here
// does).
#pragma once

#include <malloc.h>

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <initializer_list>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

#include "engine/prefetch.h"

namespace leadscore::engine {

template <typename T>
class CompactVector {
  struct Header {
    uint32_t size;
    uint32_t capacity;
  };
  static_assert(alignof(T) <= alignof(std::max_align_t) && sizeof(Header) % alignof(T) == 0,
                "the elements follow the header aligned");
  static_assert(std::is_nothrow_move_constructible_v<T>, "a reallocation moves the elements");

 public:
  using value_type = T;
  using size_type = size_t;
  using iterator = T*;
  using const_iterator = const T*;
  using reference = T&;
  using const_reference = const T&;

  CompactVector() = default;
  CompactVector(std::initializer_list<T> init) { assign(init.begin(), init.end()); }
  template <typename It>
    requires(!std::is_integral_v<It>)
  CompactVector(It first, It last) {
    assign(first, last);
  }
  CompactVector(const CompactVector& o) { assign(o.begin(), o.end()); }
  CompactVector& operator=(const CompactVector& o) {
    if (this != &o) assign(o.begin(), o.end());
    return *this;
  }
  CompactVector(CompactVector&& o) noexcept : h_(std::exchange(o.h_, nullptr)) {}
  CompactVector& operator=(CompactVector&& o) noexcept {
    if (this != &o) {
      Release();
      h_ = std::exchange(o.h_, nullptr);
    }
    return *this;
  }
  ~CompactVector() { Release(); }

  size_t size() const { return h_ ? h_->size : 0; }
  size_t capacity() const { return h_ ? h_->capacity : 0; }
  bool empty() const { return size() == 0; }
  T* data() { return h_ ? ElementsOf(h_) : nullptr; }
  const T* data() const { return h_ ? ElementsOf(h_) : nullptr; }
  T* begin() { return data(); }
  T* end() { return data() + size(); }
  const T* begin() const { return data(); }
  const T* end() const { return data() + size(); }
  T& operator[](size_t i) {
    assert(i < size());
    return data()[i];
  }
  const T& operator[](size_t i) const {
    assert(i < size());
    return data()[i];
  }
  T& front() { return (*this)[0]; }
  const T& front() const { return (*this)[0]; }
  T& back() { return (*this)[size() - 1]; }
  const T& back() const { return (*this)[size() - 1]; }

  // The block's bytes (header, elements and the room beyond them): what the hot set's
  // estimate counts (state_bytes.h).
  size_t BlockBytes() const { return h_ ? sizeof(Header) + h_->capacity * sizeof(T) : 0; }

  // A hint (engine/prefetch.h) for the block's first two lines: its header and first
  // elements. Reads nothing, not even the size, so that a pass of hints does not wait on
  // the block.
  void Prefetch() const {
    if (h_) PrefetchLines(h_, 2 * kCacheLine);
  }
  // Reads ahead (LoadLines) the header and the first elements, up to eight lines.
  uint64_t Load() const {
    return h_ ? LoadLines(h_, std::min(sizeof(Header) + h_->size * sizeof(T), kElementsAheadBytes)) : 0;
  }

  void reserve(size_t n) {
    if (n > capacity()) Reallocate(n);
  }
  void shrink_to_fit() {
    if (empty()) {
      Release();
    } else if (size() < capacity()) {
      Reallocate(size());
    }
  }
  // Keeps the block, as std::vector keeps its capacity.
  void clear() {
    if (!h_) return;
    std::destroy_n(ElementsOf(h_), h_->size);
    h_->size = 0;
  }

  template <typename... Args>
  T& emplace_back(Args&&... args) {
    if (size() == capacity()) Reallocate(Grown(size() + 1));
    T* at = ElementsOf(h_) + h_->size;
    new (at) T(std::forward<Args>(args)...);
    ++h_->size;
    return *at;
  }
  void push_back(const T& v) { emplace_back(v); }
  void push_back(T&& v) { emplace_back(std::move(v)); }
  void pop_back() {
    assert(!empty());
    std::destroy_at(&back());
    --h_->size;
  }

  // `value` by value: it may be an element of this list, which the shift moves.
  T* insert(const T* pos, T value) {
    const size_t i = static_cast<size_t>(pos - begin());
    assert(i <= size());
    if (size() == capacity()) Reallocate(Grown(size() + 1));
    T* first = ElementsOf(h_);
    const size_t n = h_->size;
    if (i == n) {
      new (first + n) T(std::move(value));
    } else {
      new (first + n) T(std::move(first[n - 1]));
      std::move_backward(first + i, first + n - 1, first + n);
      first[i] = std::move(value);
    }
    ++h_->size;
    return first + i;
  }

  T* erase(const T* pos) { return erase(pos, pos + 1); }
  T* erase(const T* from, const T* to) {
    T* first = begin() + (from - begin());
    T* last = begin() + (to - begin());
    if (first == last) return first;
    T* kept_end = std::move(last, end(), first);
    std::destroy(kept_end, end());
    h_->size -= static_cast<uint32_t>(last - first);
    return first;
  }

  void resize(size_t n) { Resize(n, [](T* at) { new (at) T(); }); }
  void resize(size_t n, const T& v) { Resize(n, [&v](T* at) { new (at) T(v); }); }

  void assign(size_t n, const T& v) {
    clear();
    resize(n, v);
  }
  template <typename It>
    requires(!std::is_integral_v<It>)
  void assign(It first, It last) {
    clear();
    const auto n = static_cast<size_t>(std::distance(first, last));
    if (n == 0) {
      Release();
      return;
    }
    reserve(n);
    std::uninitialized_copy(first, last, ElementsOf(h_));
    h_->size = static_cast<uint32_t>(n);
  }

  // Every element for which `pred` holds erased, in place (std::erase_if's contract).
  template <typename Pred>
  friend size_t erase_if(CompactVector& v, Pred pred) {
    T* kept_end = std::remove_if(v.begin(), v.end(), pred);
    const auto n = static_cast<size_t>(v.end() - kept_end);
    v.erase(kept_end, v.end());
    return n;
  }

  // Every element equal to `value` erased (std::erase's contract).
  template <typename U>
  friend size_t erase(CompactVector& v, const U& value) {
    return erase_if(v, [&value](const T& e) { return e == value; });
  }

  friend bool operator==(const CompactVector& x, const CompactVector& y) {
    return std::equal(x.begin(), x.end(), y.begin(), y.end());
  }

 private:
  static T* ElementsOf(Header* h) { return reinterpret_cast<T*>(h + 1); }
  static const T* ElementsOf(const Header* h) { return reinterpret_cast<const T*>(h + 1); }

  // As std::vector grows: twice the size, at least what is needed.
  size_t Grown(size_t needed) const { return std::max(needed, 2 * size()); }

  template <typename Make>
  void Resize(size_t n, Make make) {
    const size_t had = size();
    if (n <= had) {
      if (h_) {
        std::destroy(ElementsOf(h_) + n, ElementsOf(h_) + had);
        h_->size = static_cast<uint32_t>(n);
      }
      return;
    }
    if (n > capacity()) Reallocate(had == 0 ? n : Grown(n));
    for (size_t i = had; i < n; ++i) make(ElementsOf(h_) + i);
    h_->size = static_cast<uint32_t>(n);
  }

  // A block for at least `n` elements (and whatever more its size class holds), the
  // elements moved into it.
  void Reallocate(size_t n) {
    assert(n >= size());
    void* p = std::malloc(sizeof(Header) + n * sizeof(T));
    if (!p) throw std::bad_alloc();
    auto* h = static_cast<Header*>(p);
    const size_t room = (malloc_usable_size(p) - sizeof(Header)) / sizeof(T);
    h->capacity = static_cast<uint32_t>(std::min<size_t>(room, UINT32_MAX));
    h->size = static_cast<uint32_t>(size());
    if (h_) {
      std::uninitialized_move(ElementsOf(h_), ElementsOf(h_) + h_->size, ElementsOf(h));
      std::destroy_n(ElementsOf(h_), h_->size);
      std::free(h_);
    }
    h_ = h;
  }
  void Release() {
    if (!h_) return;
    std::destroy_n(ElementsOf(h_), h_->size);
    std::free(h_);
    h_ = nullptr;
  }

  Header* h_ = nullptr;
};

// The hints and read-ahead of engine/prefetch.h, as for a std::vector.
template <typename T>
void PrefetchElements(const CompactVector<T>& v) {
  v.Prefetch();
}
template <typename T>
uint64_t LoadElements(const CompactVector<T>& v) {
  return v.Load();
}

}  // namespace leadscore::engine
