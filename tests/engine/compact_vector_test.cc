// CompactVector: the lists of an entity's record, one pointer each (engine/compact_vector.h).
#include "engine/compact_vector.h"

#include <gtest/gtest.h>
#include <malloc.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace leadscore::testing {
namespace {

using engine::CompactVector;

// An element that owns heap memory and counts the live ones: a list that loses,
// doubles or leaks an element on a move, a shift or a reallocation shows in the count
// (and a double free or a use after one under the sanitizers).
struct Owned {
  static inline int live = 0;
  std::string text;
  explicit Owned(std::string t = "") : text(std::move(t)) { ++live; }
  Owned(const Owned& o) : text(o.text) { ++live; }
  Owned(Owned&& o) noexcept : text(std::move(o.text)) { ++live; }
  Owned& operator=(const Owned&) = default;
  Owned& operator=(Owned&&) noexcept = default;
  ~Owned() { --live; }
  bool operator==(const Owned& o) const { return text == o.text; }
};

std::vector<std::string> Texts(const CompactVector<Owned>& v) {
  std::vector<std::string> out;
  for (const Owned& o : v) out.push_back(o.text);
  return out;
}

// Long enough that no string keeps it inline: a lost move shows as a wrong text.
std::string Text(int i) { return "element number " + std::to_string(i) + " of the list"; }

TEST(CompactVectorTest, IsOnePointerAndAnEmptyListAllocatesNothing) {
  EXPECT_EQ(sizeof(CompactVector<double>), sizeof(void*));
  CompactVector<double> v;
  EXPECT_TRUE(v.empty());
  EXPECT_EQ(v.data(), nullptr);
  EXPECT_EQ(v.BlockBytes(), 0u);
  EXPECT_EQ(v.begin(), v.end());
  v.resize(0);
  v.shrink_to_fit();
  EXPECT_EQ(v.data(), nullptr);
}

TEST(CompactVectorTest, ItsCapacityIsWhatItsSizeClassHolds) {
  const std::vector<size_t> classes{16, 32, 48, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 448, 512, 640};
  size_t at = 0;
  for (size_t bytes = 1; bytes <= 640; ++bytes) {
    if (bytes > classes[at]) ++at;
    ASSERT_EQ(CompactVector<char>::SizeClass(bytes), classes[at]) << bytes;
  }
  // A header (8 B) and a 24-byte element take 32 B, a second fits in 64 (56 asked).
  CompactVector<std::array<char, 24>> sums;
  sums.resize(1);
  EXPECT_EQ(sums.capacity(), 1u);
  sums.resize(2);
  EXPECT_EQ(sums.capacity(), 2u);
  sums.resize(3);
  EXPECT_EQ(sums.capacity(), 4u) << "twice the size asked: 104 B, a block of 112 that holds four";
  EXPECT_EQ(sums.BlockBytes(), 112u);
  EXPECT_GE(malloc_usable_size(reinterpret_cast<char*>(sums.data()) - 8), sums.BlockBytes())
      << "the allocator gave at least the block counted";

  CompactVector<int64_t> v;
  v.push_back(7);
  ASSERT_EQ(v.capacity(), 1u);
  // Filling the room the size class left takes no new block.
  const int64_t* first = v.data();
  while (v.size() < v.capacity()) v.push_back(8);
  EXPECT_EQ(v.data(), first);
  v.push_back(9);
  EXPECT_NE(v.data(), first) << "past the room, a new block";
  EXPECT_EQ(v.front(), 7);
  EXPECT_EQ(v.back(), 9);
}

TEST(CompactVectorTest, InsertsAndErasesAsAVectorDoes) {
  {
    CompactVector<Owned> v;
    std::vector<std::string> expected;
    for (int i = 0; i < 40; ++i) {
      // Fronts, middles and ends, through every reallocation of 40 elements.
      const size_t at = i % 3 == 0 ? 0 : i % 3 == 1 ? v.size() / 2 : v.size();
      v.insert(v.begin() + at, Owned(Text(i)));
      expected.insert(expected.begin() + static_cast<std::ptrdiff_t>(at), Text(i));
      ASSERT_EQ(Texts(v), expected) << i;
    }
    // An element of the list itself inserted into it (it moves during the shift).
    v.insert(v.begin() + 1, v[5]);
    expected.insert(expected.begin() + 1, expected[5]);
    EXPECT_EQ(Texts(v), expected);

    v.erase(v.begin() + 3);
    expected.erase(expected.begin() + 3);
    v.erase(v.begin() + 10, v.begin() + 20);
    expected.erase(expected.begin() + 10, expected.begin() + 20);
    v.erase(v.end() - 1);
    expected.pop_back();
    EXPECT_EQ(Texts(v), expected);

    const size_t erased = erase_if(v, [](const Owned& o) { return o.text.find('7') != std::string::npos; });
    EXPECT_EQ(erased, static_cast<size_t>(std::erase_if(expected, [](const std::string& s) {
                return s.find('7') != std::string::npos;
              })));
    EXPECT_EQ(Texts(v), expected);
    EXPECT_EQ(erase(v, Owned(expected[2])), 1u);
    expected.erase(expected.begin() + 2);
    EXPECT_EQ(Texts(v), expected);
    EXPECT_EQ(Owned::live, static_cast<int>(v.size()));
  }
  EXPECT_EQ(Owned::live, 0) << "every element destroyed once";
}

TEST(CompactVectorTest, ResizesCopiesAndMovesOwnItsElements) {
  {
    CompactVector<Owned> v;
    v.resize(3, Owned(Text(1)));
    v.resize(5);
    EXPECT_EQ(Texts(v), (std::vector<std::string>{Text(1), Text(1), Text(1), "", ""}));
    v.resize(2);
    EXPECT_EQ(Owned::live, 2);

    CompactVector<Owned> copy = v;
    EXPECT_NE(copy.data(), v.data()) << "a copy has its own block";
    EXPECT_TRUE(copy == v);
    copy[0].text = Text(2);
    EXPECT_EQ(v[0].text, Text(1));

    CompactVector<Owned> moved = std::move(copy);
    EXPECT_EQ(copy.data(), nullptr);  // NOLINT(bugprone-use-after-move): left empty, as documented
    EXPECT_EQ(moved[0].text, Text(2));
    moved = v;  // copy-assigned over elements it had
    EXPECT_TRUE(moved == v);
    v = std::move(moved);
    EXPECT_EQ(Owned::live, 2);

    v.clear();
    EXPECT_TRUE(v.empty());
    EXPECT_GT(v.capacity(), 0u) << "clear keeps the block, as std::vector keeps its capacity";
    v.shrink_to_fit();
    EXPECT_EQ(v.data(), nullptr);

    v.assign(3, Owned(Text(3)));
    const std::vector<Owned> from{Owned(Text(4)), Owned(Text(5))};
    v.assign(from.begin(), from.end());
    EXPECT_EQ(Texts(v), (std::vector<std::string>{Text(4), Text(5)}));
    v.pop_back();
    EXPECT_EQ(Texts(v), (std::vector<std::string>{Text(4)}));
  }
  EXPECT_EQ(Owned::live, 0);
}

// The owner's word in the header (DedupeIds keeps its floor and index there): it
// survives every reallocation and an emptied list, moves with the list, is not copied,
// and is destroyed exactly once, with its block.
struct Counted {
  static inline int live = 0;
  int value;
  explicit Counted(int v) : value(v) { ++live; }
  Counted(const Counted&) = delete;
  Counted& operator=(const Counted&) = delete;
  ~Counted() { --live; }
};

TEST(CompactVectorTest, KeepsItsOwnersWordThroughReallocationsMovesAndEmptying) {
  using WithWord = CompactVector<std::pair<uint64_t, int64_t>, std::unique_ptr<Counted>>;
  static_assert(sizeof(WithWord) == sizeof(void*));
  {
    WithWord v;
    EXPECT_FALSE(v.word());
    v.mutable_word() = std::make_unique<Counted>(7);  // on a list with no block yet
    EXPECT_TRUE(v.empty());
    EXPECT_EQ(v.BlockBytes(), 16u) << "a header of two sizes and the word";
    for (int i = 0; i < 100; ++i) v.emplace_back(i, i);  // across every reallocation
    ASSERT_TRUE(v.word());
    EXPECT_EQ(v.word()->value, 7);
    EXPECT_EQ(v.BlockBytes(), WithWord::SizeClass(16 + 16 * v.capacity())) << "16-byte elements: no bytes lost";
    v.assign(v.end(), v.end());  // emptied, as a lead whose ids all expired
    v.shrink_to_fit();
    ASSERT_TRUE(v.word()) << "a list whose word is set keeps its block";
    EXPECT_EQ(Counted::live, 1);
    WithWord copy = v;
    EXPECT_FALSE(copy.word()) << "copies copy the elements only";
    WithWord moved = std::move(v);
    EXPECT_FALSE(v.word());  // NOLINT(bugprone-use-after-move): moved from, it has no block
    ASSERT_TRUE(moved.word());
    EXPECT_EQ(moved.word()->value, 7);
    moved.mutable_word().reset();
    moved.shrink_to_fit();
    EXPECT_EQ(moved.BlockBytes(), 0u) << "without its word an empty list frees its block";
    WithWord other;
    other.mutable_word() = std::make_unique<Counted>(8);
    other.emplace_back(1, 1);
    other = WithWord{};  // assigned over: its word goes with its block
    EXPECT_EQ(Counted::live, 0);
    other.mutable_word() = std::make_unique<Counted>(9);
  }
  EXPECT_EQ(Counted::live, 0) << "destroyed with its block";
}

}  // namespace
}  // namespace leadscore::testing
