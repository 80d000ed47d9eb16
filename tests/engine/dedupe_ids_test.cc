// DedupeIds against the list it replaced: the same ids in the same order after every
// step, and the same answer to every Contains, whether or not a lead is indexed.
#include "engine/dedupe_ids.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <utility>
#include <vector>

namespace leadscore::engine {
namespace {

using Entry = DedupeIds::Entry;

// The list as Transitions kept it before: scanned, erased in place.
struct Reference {
  std::vector<Entry> ids;
  int64_t floor = DedupeIds::kNoFloor;  // Transitions' dedupe_floor_ms, raised at the cap
  bool Contains(uint64_t key) const {
    return std::any_of(ids.begin(), ids.end(), [&](const Entry& e) { return e.first == key; });
  }
  void ForgetUpTo(int64_t horizon) {
    std::erase_if(ids, [&](const Entry& e) { return e.second <= horizon; });
  }
  int64_t ForgetOldest() {
    auto oldest = std::min_element(ids.begin(), ids.end(), [](const Entry& x, const Entry& y) { return x.second < y.second; });
    const int64_t at = oldest->second;
    ids.erase(oldest);
    floor = std::max(floor, at);
    return at;
  }
};

std::vector<Entry> Listed(const DedupeIds& d) { return {d.begin(), d.end()}; }

// Random walks over sizes that cross the index's threshold both ways, with keys that
// repeat (a redelivery), the key 0, times out of order, and forgetting by horizon and
// by the cap, as Transitions::Remember does.
TEST(DedupeIdsTest, RemembersAndForgetsExactlyAsTheScannedListDid) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    std::mt19937_64 rng(seed);
    DedupeIds d;
    Reference ref;
    int64_t now = 1000;
    const size_t cap = seed % 2 ? 200 : 40;
    const int out_of_order = static_cast<int>(seed % 4);  // 0: times never go back
    for (int step = 0; step < 4000; ++step) {
      now += static_cast<int64_t>(rng() % 5);
      const uint64_t key = rng() % 7 == 0 ? rng() % 64 : rng();  // small keys repeat; 0 among them
      ASSERT_EQ(d.Contains(key), ref.Contains(key)) << "seed " << seed << " step " << step;
      if (ref.Contains(key)) continue;
      const int64_t at = out_of_order && rng() % 8 < static_cast<uint64_t>(out_of_order) ? now - static_cast<int64_t>(rng() % 300) : now;
      const int64_t horizon = now - 400 - static_cast<int64_t>(rng() % 50);
      if (ref.ids.size() >= 8 && ref.ids.front().second <= horizon) {
        d.ForgetUpTo(horizon);
        ref.ForgetUpTo(horizon);
      }
      if (!ref.ids.empty() && ref.ids.size() >= cap) {
        ASSERT_EQ(d.ForgetOldest(), ref.ForgetOldest());
      }
      d.Add(key, at);
      ref.ids.emplace_back(key, at);
      ASSERT_EQ(Listed(d), ref.ids) << "seed " << seed << " step " << step;
      ASSERT_EQ(d.floor(), ref.floor) << "seed " << seed << " step " << step;
      if (rng() % 500 == 0) {  // a copy (a handoff's) and a move keep it as it was
        DedupeIds copy = d;
        ASSERT_EQ(Listed(copy), ref.ids);
        ASSERT_EQ(copy.floor(), ref.floor);
        DedupeIds moved = std::move(copy);
        ASSERT_EQ(Listed(moved), ref.ids);
        ASSERT_EQ(moved.floor(), ref.floor);
        EXPECT_TRUE(copy.empty());  // NOLINT(bugprone-use-after-move): a moved-from set is empty
        for (const Entry& e : ref.ids) ASSERT_TRUE(moved.Contains(e.first));
      }
    }
  }
}

// A lead clicked for hours: a full set forgets its oldest id at each new one, and every
// id it still holds, and none it forgot, is a duplicate.
TEST(DedupeIdsTest, AFullSetForgetsItsOldestAndStillKnowsTheRest) {
  DedupeIds d;
  for (uint64_t i = 1; i <= 5000; ++i) {
    if (d.size() >= 1024) {
      EXPECT_EQ(d.ForgetOldest(), static_cast<int64_t>(i - 1024));
    }
    d.Add(i * 0x9E3779B97F4A7C15ull, static_cast<int64_t>(i));
  }
  ASSERT_EQ(d.size(), 1024u);
  EXPECT_EQ(d.front().second, 5000 - 1023);
  for (uint64_t i = 1; i <= 5000; ++i) EXPECT_EQ(d.Contains(i * 0x9E3779B97F4A7C15ull), i > 5000 - 1024) << i;
  d.ForgetUpTo(4990);
  EXPECT_EQ(d.size(), 10u);
  EXPECT_TRUE(d.Contains(5000 * 0x9E3779B97F4A7C15ull));
  EXPECT_FALSE(d.Contains(4990 * 0x9E3779B97F4A7C15ull));
  // The floor is the latest id forgotten at the cap, and outlives the index and the ids.
  EXPECT_EQ(d.floor(), 5000 - 1024);
  d.ForgetUpTo(6000);
  EXPECT_TRUE(d.empty());
  EXPECT_EQ(d.floor(), 5000 - 1024);
  DedupeIds copy = d;
  EXPECT_EQ(copy.floor(), 5000 - 1024);
  copy.RaiseFloor(10);  // a lower floor (a handoff's other half) leaves it
  EXPECT_EQ(copy.floor(), 5000 - 1024);
  copy.RaiseFloor(6000);
  EXPECT_EQ(copy.floor(), 6000);
  EXPECT_EQ(DedupeIds().floor(), DedupeIds::kNoFloor);
}

}  // namespace
}  // namespace leadscore::engine
