// What an entity keeps in memory in few bytes: its profile in one block behind one
// pointer (engine/profile_block.h) and its name in the id table as a block cut to its
// size (engine/ids.h, engine/name_slab.h). Both must keep exactly what they are given, copy deeply, and free
// what they drop.
#include <gtest/gtest.h>

#include <iterator>
#include <map>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "engine/ids.h"
#include "engine/profile_block.h"
#include "engine/state.h"

namespace leadscore::testing {
namespace {

using engine::ProfileBlock;
using Slot = model::FieldValue;

Slot Number(double v) { return {.present = true, .has_number = true, .symbol = model::kOtherSymbol, .number = v}; }
Slot Symbol(int32_t s) { return {.present = true, .has_number = false, .symbol = s, .number = 0}; }

void ExpectSlot(const Slot& got, const Slot& want, size_t i) {
  EXPECT_EQ(got.present, want.present) << i;
  EXPECT_EQ(got.has_number, want.has_number) << i;
  EXPECT_EQ(got.symbol, want.symbol) << i;
  EXPECT_EQ(got.number, want.number) << i;
}

TEST(ProfileBlockTest, KeepsTheSlotsGivenThenUnknownOnesAndTheWholeProfileByteForByte) {
  const std::vector<Slot> given{Number(250), Symbol(3)};
  const std::string whole("\x01\x02title\0with a zero byte", 25);
  ProfileBlock p;
  p.Assign(given, 5, whole);
  ASSERT_EQ(p.slot_count(), 5u) << "padded to the model's slots";
  ExpectSlot(p.slot(0), given[0], 0);
  ExpectSlot(p.slot(1), given[1], 1);
  for (size_t i = 2; i < 5; ++i) ExpectSlot(p.slot(i), Slot{}, i);
  EXPECT_EQ(p.whole(), whole) << "the zero byte and what follows it are kept";
  EXPECT_EQ(p.BlockBytes(), 8 + 5 * 4 + sizeof(Slot) + whole.size())
      << "a header, a word a slot, the number after them and the bytes: one block";

  p.Assign(given, 0, "");  // as many slots as given, no whole profile (formats before it)
  EXPECT_EQ(p.slot_count(), 2u);
  ExpectSlot(p.slot(0), given[0], 0);
  EXPECT_TRUE(p.whole().empty());
}

TEST(ProfileBlockTest, NothingToKeepIsNoBlockAndAWholeProfileAloneIsKept) {
  ProfileBlock p;
  EXPECT_EQ(p.slot_count(), 0u);
  EXPECT_TRUE(p.whole().empty());
  EXPECT_EQ(p.BlockBytes(), 0u);
  p.Assign({}, 0, "whole, without slots");  // a profile read without deriving its slots
  EXPECT_EQ(p.slot_count(), 0u);
  EXPECT_FALSE(p.view().known()) << "a condition given these reads none, not the bytes after the header";
  EXPECT_EQ(p.whole(), "whole, without slots");
  p.Assign({}, 0, "");
  EXPECT_EQ(p.BlockBytes(), 0u) << "nothing left: the block is freed";
  p.Assign(std::vector<Slot>{Number(1)}, 3, "x");
  p.clear();
  EXPECT_EQ(p.BlockBytes(), 0u);
  EXPECT_TRUE(p.whole().empty());
}

TEST(ProfileBlockTest, ACopyIsItsOwnAndAMoveLeavesNothingBehind) {
  ProfileBlock original;
  original.Assign(std::vector<Slot>{Number(7), Symbol(1)}, 2, "before");
  ProfileBlock copy = original;  // the views decay a copy of an entity
  original.Assign(std::vector<Slot>{Number(8)}, 2, "after");
  EXPECT_EQ(copy.whole(), "before");
  ExpectSlot(copy.slot(0), Number(7), 0);
  ExpectSlot(copy.slot(1), Symbol(1), 1);
  EXPECT_EQ(original.whole(), "after");

  ProfileBlock moved = std::move(original);
  EXPECT_EQ(moved.whole(), "after");
  EXPECT_EQ(original.BlockBytes(), 0u);  // NOLINT(bugprone-use-after-move): what a move leaves is the point
  copy = moved;
  EXPECT_EQ(copy.whole(), "after");
  copy = std::move(moved);
  EXPECT_EQ(copy.whole(), "after");
  ExpectSlot(copy.slot(0), Number(8), 0);
  ExpectSlot(copy.slot(1), Slot{}, 1);
}

TEST(ProfileBlockTest, AnEntityCopiedKeepsItsProfileAndConditionsReadItsSlots) {
  engine::LeadState lead;
  lead.has_profile = true;
  lead.profile.Assign(std::vector<Slot>{Symbol(4), Number(3)}, 5, "whole");
  const engine::LeadState copy = lead;
  lead.profile.clear();
  const model::FieldContext ctx = engine::LeadContext(copy, nullptr);
  ASSERT_TRUE(ctx.lead.known());
  EXPECT_EQ(ctx.lead[0].symbol, 4);
  EXPECT_EQ(ctx.lead[1].number, 3);
  EXPECT_EQ(copy.profile.whole(), "whole");
  engine::LeadState unknown;
  EXPECT_FALSE(engine::LeadContext(unknown, nullptr).lead.known()) << "no profile: every condition on it is false";
}

TEST(ProfileBlockTest, EveryKindOfValueReadsBackAsItWasPackedAmongOthers) {
  // What a word holds (a text's symbol, the other symbol, nothing) and what it cannot
  // (a number, a number with a symbol, a symbol past the word's range, values not
  // present that are not the default, a number without its flag), in every order,
  // with the whole profile after.
  Slot number_and_symbol = Number(-2.5);
  number_and_symbol.symbol = 9;
  Slot odd_absent;
  odd_absent.symbol = 4;
  Slot zero_number = Number(0);
  Slot stray_number = Symbol(3);  // a number without its flag: no condition reads it, but it is kept
  stray_number.number = 7;
  const std::vector<Slot> kinds{Symbol(0),        Symbol(model::kOtherSymbol), Slot{},
                                Number(1e300),    number_and_symbol,           Symbol(int32_t{1} << 30),
                                Symbol(-7),       odd_absent,                  zero_number,
                                Symbol((int32_t{1} << 30) - 2),                stray_number};
  std::mt19937 rng(17);
  for (int round = 0; round < 200; ++round) {
    std::vector<Slot> given(static_cast<size_t>(rng() % 12));
    for (Slot& v : given) v = kinds[rng() % kinds.size()];
    const std::string whole(rng() % 40, static_cast<char>('a' + round % 26));
    ProfileBlock p;
    p.Assign(given, given.size() + rng() % 3, whole);
    ASSERT_GE(p.slot_count(), given.size());
    for (size_t i = 0; i < p.slot_count(); ++i) ExpectSlot(p.slot(i), i < given.size() ? given[i] : Slot{}, i);
    const ProfileBlock copy = p;
    for (size_t i = 0; i < given.size(); ++i) ExpectSlot(copy.view()[i], given[i], i);
    EXPECT_EQ(copy.whole(), whole);
    EXPECT_EQ(copy.BlockBytes(), p.BlockBytes());
  }
}

TEST(ProfileBlockTest, ALeadOfTheExampleModelFitsEightyBytes) {
  // Five texts (role, seniority, title, country, email domain) and a whole profile of
  // 49 B, as a simulated lead's: jemalloc's 80 B class, not 128 B (README, Performance).
  ProfileBlock p;
  const Slot other = Symbol(model::kOtherSymbol);
  p.Assign(std::vector<Slot>{Symbol(3), Symbol(5), other, Symbol(12), other}, 5, std::string(49, 'w'));
  EXPECT_LE(p.BlockBytes(), 80u);
}

TEST(IdTableTest, NamesAreKeptExactlyFoundAgainAndReleasedForReuse) {
  engine::IdTable ids;
  const std::string long_name(1000, 'x');
  const std::string with_zero("lead\0two", 8);
  const engine::EntityId a = ids.Intern("acct-12345-lead-3");
  const engine::EntityId b = ids.Intern(long_name);
  const engine::EntityId c = ids.Intern(with_zero);
  const engine::EntityId empty = ids.Intern("");
  EXPECT_EQ(ids.Intern("acct-12345-lead-3"), a) << "interned once";
  EXPECT_EQ(ids.Name(a), "acct-12345-lead-3");
  EXPECT_EQ(ids.Name(b), long_name);
  EXPECT_EQ(ids.Name(c), with_zero);
  EXPECT_EQ(ids.Find(std::string_view("lead", 4)), engine::kNoEntity) << "the bytes after the zero count";
  EXPECT_EQ(ids.Name(empty), "");
  for (const size_t n : {size_t{127}, size_t{128}, size_t{254}, size_t{255}, size_t{256}, size_t{70000}}) {
    const std::string name(n, static_cast<char>('a' + n % 26));
    EXPECT_EQ(ids.Name(ids.Intern(name)), name) << n << " characters, either side of the one-byte length";
  }
  EXPECT_EQ(ids.NameHeapBytes(a), 1 + 17) << "a length byte and the characters, nothing rounded";
  EXPECT_EQ(ids.NameHeapBytes(b), 5 + 1000 + engine::IdTable::kAllocationHeader)
      << "255, then four length bytes, in a heap block of its own";
  EXPECT_EQ(ids.NameHeapBytes(empty), 0u);

  ids.Release(b);
  EXPECT_TRUE(ids.Name(b).empty());
  EXPECT_EQ(ids.Find(long_name), engine::kNoEntity);
  EXPECT_EQ(ids.Intern("reused"), b) << "the released id is given out again";
  EXPECT_EQ(ids.Name(b), "reused");
  EXPECT_EQ(ids.Find(with_zero), c);
  EXPECT_EQ(ids.live(), 10u);
}

TEST(IdTableTest, AReleasedNamesBlockIsGivenToTheNextNameOfItsSize) {
  engine::IdTable ids;
  const engine::EntityId a = ids.Intern("acct-12345-lead-3");
  const engine::EntityId keep = ids.Intern("acct-12345-lead-4");
  const char* block = ids.Name(a).data();
  ids.Release(a);
  const engine::EntityId other_size = ids.Intern("acct-1-lead-3");
  EXPECT_NE(ids.Name(other_size).data(), block);
  const engine::EntityId same_size = ids.Intern("acct-99999-lead-9");
  EXPECT_EQ(ids.Name(same_size).data(), block) << "the freed block, not a new one";
  EXPECT_EQ(ids.Name(same_size), "acct-99999-lead-9");
  EXPECT_EQ(ids.Name(keep), "acct-12345-lead-4");
}

// Names of every size from none to past the slab's largest block, interned and released
// at random: each name reads as it was interned, and ids and blocks are reused.
TEST(IdTableTest, NamesComingAndGoingAtRandomKeepTheirCharacters) {
  engine::IdTable ids;
  std::map<engine::EntityId, std::string> live;
  std::mt19937_64 rng(5);
  for (int step = 0; step < 40000; ++step) {
    if (!live.empty() && rng() % 5 < 2) {
      auto it = std::next(live.begin(), static_cast<std::ptrdiff_t>(rng() % live.size()));
      ids.Release(it->first);
      live.erase(it);
      continue;
    }
    const size_t n = rng() % 4 == 0 ? rng() % (engine::NameSlab::kLargest + 100) : 10 + rng() % 12;
    std::string name(n, ' ');
    for (char& c : name) c = static_cast<char>('a' + rng() % 26);
    const engine::EntityId id = ids.Intern(name);
    ASSERT_TRUE(!live.count(id) || live[id] == name) << step;
    live[id] = name;
    if (step % 1000 == 0) {
      for (const auto& [i, text] : live) ASSERT_EQ(ids.Name(i), text) << step;
    }
  }
  for (const auto& [i, text] : live) {
    ASSERT_EQ(ids.Name(i), text);
    ASSERT_EQ(ids.Find(text), i);
  }
  EXPECT_EQ(ids.live(), live.size());
  engine::IdTable moved = std::move(ids);
  for (const auto& [i, text] : live) ASSERT_EQ(moved.Name(i), text) << "a moved table keeps its names";
}

TEST(IdTableTest, ANameStaysWhereItIsWhileTheTableGrows) {
  engine::IdTable ids;
  const engine::EntityId first = ids.Intern("acct-1-lead-1");
  const std::string_view name = ids.Name(first);
  const char* chars = name.data();
  for (int i = 0; i < 100000; ++i) ids.Intern("acct-" + std::to_string(i) + "-lead-" + std::to_string(i % 7));
  EXPECT_EQ(ids.Name(first).data(), chars) << "a view taken before is still good";
  EXPECT_EQ(name, "acct-1-lead-1");
  EXPECT_EQ(ids.Find("acct-99999-lead-4"), ids.Intern("acct-99999-lead-4"));
}

TEST(CompactStateTest, ALeadsRecordKeepsItsListsBehindOnePointerEach) {
  // What the engine row of bench/pipeline_bench measures resident, and what an event
  // reads of its lead: a record that grows past three lines costs every event a miss.
  EXPECT_LE(sizeof(engine::LeadState), 3 * engine::kCacheLine);
  // 144 B since its lists became CompactVectors (192 B with std::vectors): the
  // signal sums, the held runs, the dedupe ids, an account's four. A lead's two lines
  // (128 B) since the dedupe ids' index and floor went behind their list's block.
  EXPECT_LE(sizeof(engine::LeadState), 2 * engine::kCacheLine);
  // 96 B since the store's check went to its listing for TakeChanges, the due of its
  // newest timer entry was dropped, its count of tier changes went to its history and
  // its last event's time is read from its sums, and the flags are bits: at a stride
  // of 96 B a record never straddles a third line. An account: 128 B, aligned to a
  // line (its 120 B of fields would straddle three).
  EXPECT_EQ(sizeof(engine::LeadState), 96u);
  EXPECT_EQ(sizeof(engine::AccountState), 2 * engine::kCacheLine);
  EXPECT_EQ(alignof(engine::AccountState), engine::kCacheLine);
  EXPECT_EQ(sizeof(engine::ProfileBlock), sizeof(void*));
  EXPECT_EQ(sizeof(engine::DedupeIds), sizeof(void*));
}

// An account keeps no role sums until a lead with a role has an event: a CRM's state is
// mostly accounts nobody at which engaged lately, and the sums of every role and signal
// were 256 B of each (engine/state.h).
TEST(CompactStateTest, AnAccountsRoleSumsAreMadeByTheirFirstChange) {
  engine::AccountState a;
  EXPECT_TRUE(a.role_values.empty());
  EXPECT_EQ(a.role_values.BlockBytes(), 0u);
  EXPECT_EQ(a.RoleSum(1, 3, 2), 0.0);
  a.AddToRole(1, 2, 3, 2, 0.5);  // role 1 of 2, signal 2 of 3
  ASSERT_EQ(a.role_values.size(), 6u);
  for (size_t r = 0; r < 2; ++r) {
    for (size_t s = 0; s < 3; ++s) {
      EXPECT_EQ(a.RoleSum(r, 3, s), r == 1 && s == 2 ? 0.5 : 0.0) << r << " " << s;
    }
  }
  a.role_crossing.assign(2, engine::kLongAgo);
  a.RememberRoleCrossing(0, 7, true);
  a.ClearRoleSums();
  EXPECT_EQ(a.role_values.BlockBytes(), 0u) << "its block freed";
  EXPECT_TRUE(a.role_crossing.empty());
  EXPECT_EQ(a.role_crossing_engaged, 0u);
}

}  // namespace
}  // namespace leadscore::testing
