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
// A block is asked for in the allocator's size classes (jemalloc's, the service's
// malloc: 16-byte steps to 128 B, then four a doubling), and its capacity is what the
// class holds: the bytes a request would have left unused are room for the next
// elements. Computed here rather than asked of the allocator (malloc_usable_size
// cost 0.5 % of the engine step's instructions), so the capacity is the same under
// any malloc; blocks are freed with their size (jemalloc's sized free skips a lookup).
//
// A list may also keep one word of its owner's in its header (`Word`, a pointer or a
// unique_ptr): the dedupe ids keep there what only a lead that a bot clicks needs, so
// that every other lead's record does not hold it. With 16-byte elements a 16-byte
// header costs no block bytes: the blocks are in 16-byte classes either way. A list
// whose word is set keeps its block when it holds no elements; the word moves with
// the list and is destroyed with its block; copies copy the elements only.
//
// What std::vector guarantees and this keeps: elements are contiguous, iterators are
// pointers, a reallocation invalidates them, capacity only grows (until
// shrink_to_fit, or an assign of nothing, which frees the block). Element types must
// move without throwing (every element type here does).
#pragma once

#include <algorithm>
#include <bit>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

#include "engine/prefetch.h"

namespace leadscore::engine {

template <typename T, typename Word = void>
class CompactVector {
  struct NoWord {
    explicit operator bool() const { return false; }
  };
  using WordType = std::conditional_t<std::is_void_v<Word>, NoWord, Word>;
  struct Header {
    uint32_t size;
    uint32_t capacity;
    [[no_unique_address]] WordType word;
  };
  static_assert(!std::is_void_v<Word> || sizeof(Header) == 8, "a list without a word has an 8-byte header");
  static_assert(std::is_nothrow_move_constructible_v<WordType>, "a reallocation moves the word");
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
  // The owner's word (default-constructed while there is no block).
  const WordType& word() const { return h_ ? h_->word : kNoWord; }
  // For setting it: a list without a block gets one of no elements.
  WordType& mutable_word() {
    if (!h_) Reallocate(0);
    return h_->word;
  }

  T& front() { return (*this)[0]; }
  const T& front() const { return (*this)[0]; }
  T& back() { return (*this)[size() - 1]; }
  const T& back() const { return (*this)[size() - 1]; }

  // The block's bytes (its size class: header, elements and the room beyond them):
  // what the hot set's estimate counts (state_bytes.h).
  size_t BlockBytes() const { return h_ ? SizeClass(sizeof(Header) + h_->capacity * sizeof(T)) : 0; }

  // A hint (engine/prefetch.h) for the block's first `bytes`: its header and first
  // elements. Reads nothing, not even the size, so that a pass of hints does not wait on
  // the block; a list that is usually long is hinted further by its caller.
  void Prefetch(size_t bytes = 2 * kCacheLine) const {
    if (h_) PrefetchLines(h_, bytes);
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
      ReleaseUnlessWord();
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
      ReleaseUnlessWord();
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

  // The smallest of jemalloc's size classes that holds `bytes`: 16 B steps up to
  // 128 B, then four steps a doubling (160, 192, 224, 256, 320, ...).
  static constexpr size_t SizeClass(size_t bytes) {
    if (bytes <= 128) return (bytes + 15) & ~size_t{15};
    const size_t step = std::bit_floor(bytes - 1) / 4;
    return (bytes + step - 1) & ~(step - 1);
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
    assert(n >= size() && n <= UINT32_MAX);
    const size_t bytes = SizeClass(sizeof(Header) + n * sizeof(T));
    auto* h = new (::operator new(bytes)) Header{static_cast<uint32_t>(size()),
                                                 static_cast<uint32_t>((bytes - sizeof(Header)) / sizeof(T)), {}};
    if (h_) {
      h->word = std::move(h_->word);
      std::uninitialized_move(ElementsOf(h_), ElementsOf(h_) + h_->size, ElementsOf(h));
      std::destroy_n(ElementsOf(h_), h_->size);
      Free(h_);
    }
    h_ = h;
  }
  void Release() {
    if (!h_) return;
    std::destroy_n(ElementsOf(h_), h_->size);
    Free(h_);
    h_ = nullptr;
  }
  void ReleaseUnlessWord() {
    if (h_ && h_->word) return;
    Release();
  }
  // Destroys the header (its word) and frees the block.
  void Free(Header* h) const {
    const size_t capacity = h->capacity;
    h->~Header();
#ifdef __cpp_sized_deallocation
    ::operator delete(h, SizeClass(sizeof(Header) + capacity * sizeof(T)));
#else
    (void)capacity;
    ::operator delete(h);  // clang before 19 leaves sized deallocation off (the fuzz build)
#endif
  }

  static inline const WordType kNoWord{};
  Header* h_ = nullptr;
};

// The hints and read-ahead of engine/prefetch.h, as for a std::vector.
template <typename T, typename Word>
void PrefetchElements(const CompactVector<T, Word>& v) {
  v.Prefetch();
}
template <typename T, typename Word>
uint64_t LoadElements(const CompactVector<T, Word>& v) {
  return v.Load();
}

}  // namespace leadscore::engine
