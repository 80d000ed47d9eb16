// The engine's record pools: what an id costs without a record, that records never
// move, and that a freed record is reused, empty.
#include "engine/record_pool.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace leadscore::testing {
namespace {

struct Record {
  int value = 0;
  std::string name;
};
using Pool = engine::RecordPool<Record>;

TEST(RecordPoolTest, AnIdWithoutARecordCostsItsIndexEntryNotARecord) {
  Pool pool;
  pool.Get(1'000'000).value = 7;
  EXPECT_EQ(pool.slots(), 1u) << "one record, however high the id";
  EXPECT_EQ(pool.RecordBytes(), Pool::kChunk * sizeof(Record));
  EXPECT_EQ(pool.Find(999'999), nullptr);
  ASSERT_NE(pool.Find(1'000'000), nullptr);
  EXPECT_EQ(pool.Find(1'000'000)->value, 7);
  EXPECT_EQ(pool.Find(2'000'000), nullptr) << "past the index: none";
}

TEST(RecordPoolTest, RecordsStayWhereTheyAreWhileThePoolGrows) {
  Pool pool;
  Record& first = pool.Get(3);
  first.name = "kept";
  for (engine::EntityId id = 10; id < 10 + 5 * Pool::kChunk; ++id) pool.Get(id).value = static_cast<int>(id);
  EXPECT_EQ(&first, pool.Find(3)) << "five chunks later, the same address";
  EXPECT_EQ(first.name, "kept");
  EXPECT_EQ(pool.Find(10 + 3 * Pool::kChunk)->value, static_cast<int>(10 + 3 * Pool::kChunk));
  EXPECT_EQ(pool.RecordBytes(), 6 * Pool::kChunk * sizeof(Record)) << "one chunk at most beyond what is held";
}

TEST(RecordPoolTest, RecordsOfWholeLinesStartOnALine) {
  // A lead's record is three lines (compact_state_test): read at random, it should cost
  // three misses, not four.
  struct ThreeLines {
    char bytes[3 * 64] = {};
  };
  engine::RecordPool<ThreeLines> pool;
  for (engine::EntityId id = 0; id < 2 * engine::RecordPool<ThreeLines>::kChunk + 5; ++id) {
    EXPECT_EQ(reinterpret_cast<uintptr_t>(&pool.Get(id)) % 64, 0u) << id;
  }
}

TEST(RecordPoolTest, AFreedRecordIsReusedEmptyByTheNextId) {
  Pool pool;
  for (engine::EntityId id = 0; id < 3; ++id) pool.Get(id) = {static_cast<int>(id) + 1, "r" + std::to_string(id)};
  pool.Free(1);
  EXPECT_EQ(pool.Find(1), nullptr);
  EXPECT_EQ(pool.OwnerAt(1), engine::kNoEntity) << "a scan skips the free slot";
  std::vector<engine::EntityId> held;
  pool.ForEach([&](engine::EntityId id, const Record&) { held.push_back(id); });
  EXPECT_EQ(held, (std::vector<engine::EntityId>{0, 2}));
  Record& reused = pool.Get(42);
  EXPECT_EQ(pool.slots(), 3u) << "the freed slot, not a new one";
  EXPECT_EQ(reused.value, 0) << "empty, nothing of the freed record left";
  EXPECT_TRUE(reused.name.empty());
  EXPECT_EQ(pool.OwnerAt(1), 42u);
  EXPECT_EQ(pool.Find(0)->name, "r0");
  EXPECT_EQ(pool.Find(2)->name, "r2");
  pool.Free(7);  // an id without a record: nothing to do
  EXPECT_EQ(pool.slots(), 3u);
}

}  // namespace
}  // namespace leadscore::testing
