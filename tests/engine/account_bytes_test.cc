// An account's bytes from version 10 (snapshot_codec.h): role sums grouped by role, a
// signal by its place among the names written before it, and lead ids front-coded.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/harness.h"
#include "engine/ids.h"
#include "engine/snapshot.h"
#include "engine/snapshot_codec.h"
#include "engine/state.h"

namespace leadscore::testing {
namespace {

// kTestModel: signals view, demo, unsub (0, 1, 2); roles buyer, user. The account has
// sums of view and unsub only, so a role's unsub is at place 1 (signal 2) and its demo
// a further name at place 2 (signal 1): places are not the model's numbers.
engine::AccountState AnAccount(const model::Model& m, engine::IdTable& leads) {
  const size_t n = m.signals.size();
  const size_t view = *m.SignalIndex("view"), demo = *m.SignalIndex("demo"), unsub = *m.SignalIndex("unsub");
  engine::AccountState a;
  a.exists = true;
  a.clock = kT0;
  a.ActiveSum(view).value = 2.5;
  a.ActiveSum(unsub).value = 0.5;
  a.role_values.assign(2 * n, 0.0);
  a.role_values[0 * n + view] = 1.5;  // buyer
  a.role_values[0 * n + unsub] = 0.5;
  a.role_values[1 * n + demo] = 0.25;  // user
  a.role_values[1 * n + unsub] = 0.125;
  // The third is a prefix of the second (all of it shared, nothing more).
  for (const char* id : {"acct-7-lead-10", "acct-7-lead-11", "acct-7-lead-1", "acct-7-lead-2", "x"}) {
    a.leads.push_back(leads.Intern(id));
  }
  a.contacts = {{a.leads[1], kT0 - kHour}, {a.leads[0], kT0 - 2 * kHour}, {a.leads[4], kT0}};
  return a;
}

void ExpectSameIds(const engine::IdTable& a_ids, const engine::CompactVector<engine::EntityId>& a,
                   const engine::IdTable& b_ids, const engine::CompactVector<engine::EntityId>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a_ids.Name(a[i]), b_ids.Name(b[i])) << i;
}

TEST(AccountBytesTest, RoleSumsAndLeadIdsReadBackAsWritten) {
  const auto model = MustLoad(kTestModel);
  const engine::SnapshotCodec codec(*model);
  engine::IdTable leads;
  const engine::AccountState a = AnAccount(*model, leads);
  const std::string bytes = codec.EncodeAccount(a, leads);
  ASSERT_EQ(static_cast<uint8_t>(bytes[0]), engine::kSnapshotVersion);

  engine::IdTable other_ids;
  engine::AccountState back;
  ASSERT_TRUE(codec.DecodeAccount("a1", bytes, other_ids, &back).ok());
  EXPECT_EQ(back.role_values, a.role_values);
  ExpectSameIds(leads, a.leads, other_ids, back.leads);
  ASSERT_EQ(back.contacts.size(), a.contacts.size());
  for (size_t i = 0; i < a.contacts.size(); ++i) {
    EXPECT_EQ(other_ids.Name(back.contacts[i].first), leads.Name(a.contacts[i].first)) << i;
    EXPECT_EQ(back.contacts[i].second, a.contacts[i].second) << i;
  }
  EXPECT_EQ(codec.EncodeAccount(back, other_ids), bytes) << "written again to the same bytes";
  // An id shares its prefix with the one before: the first contact and the first lead
  // are written whole, the fourth lead as what follows "acct-7-lead-".
  EXPECT_NE(bytes.find("acct-7-lead-11"), std::string::npos) << "the first contact, whole";
  EXPECT_EQ(bytes.find("acct-7-lead-2"), std::string::npos) << "front-coded: only its last character";

  // Cut anywhere, refused.
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    engine::AccountState partial;
    EXPECT_FALSE(codec.DecodeAccount("a1", bytes.substr(0, cut), other_ids, &partial).ok()) << cut;
  }
}

// Under a model without `view` (the signal at place 0) and with the role `user` renamed,
// the places still name the signals as written: buyer's unsub and nothing of user's.
TEST(AccountBytesTest, PlacesNameTheSignalsAsWrittenUnderAnotherModel) {
  const auto model = MustLoad(kTestModel);
  std::string other_yaml = kTestModel;
  const auto replace = [&](const std::string& from, const std::string& to) {
    const size_t at = other_yaml.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    other_yaml.replace(at, from.size(), to);
  };
  replace("version: test", "version: other");
  replace("    view:  { points: 10, half_life: 1d, cap: 30 }\n", "");
  replace("signals: [view], factor: 2", "signals: [demo], factor: 2");
  replace("roles: { buyer: 3, user: 1 }", "roles: { buyer: 3, champion: 1 }");
  replace("lead.role: { eq: user }", "lead.role: { eq: champion }");
  const auto other = MustLoad(other_yaml);
  ASSERT_FALSE(other->SignalIndex("view"));
  engine::IdTable leads;
  const std::string bytes = engine::SnapshotCodec(*model).EncodeAccount(AnAccount(*model, leads), leads);
  engine::AccountState back;
  ASSERT_TRUE(engine::SnapshotCodec(*other).DecodeAccount("a1", bytes, leads, &back).ok());
  const size_t n = other->signals.size(), unsub = *other->SignalIndex("unsub"), demo = *other->SignalIndex("demo");
  engine::CompactVector<double> expected;
  expected.assign(2 * n, 0.0);
  expected[0 * n + unsub] = 0.5;  // buyer; view's 1.5 dropped with the signal
  EXPECT_EQ(back.role_values, expected) << "user's demo and unsub dropped with the role";
  EXPECT_EQ(back.role_values[0 * n + demo], 0.0);
}

// An account with no role sums, no contacts and no leads reads back keeping none (not
// a sum of 0 for every role and signal); one whose sums are all 0 again writes the same
// bytes; and a place past the names written, refused.
TEST(AccountBytesTest, AnEmptyAccountReadsBackAndAPlacePastTheNamesIsRefused) {
  const auto model = MustLoad(kTestModel);
  const engine::SnapshotCodec codec(*model);
  const size_t roles = model->committee.roles.size(), n = model->signals.size();
  const size_t view = *model->SignalIndex("view");
  engine::IdTable leads;
  engine::AccountState empty;
  empty.exists = true;
  empty.clock = kT0;
  const std::string bytes = codec.EncodeAccount(empty, leads);
  engine::AccountState back;
  back.AddToRole(0, roles, n, view, 1);  // a sum from before: reading replaces it
  ASSERT_TRUE(codec.DecodeAccount("a0", bytes, leads, &back).ok());
  EXPECT_TRUE(back.role_values.empty()) << "no block for sums that are all 0";
  EXPECT_EQ(back.RoleSum(0, n, view), 0.0);
  EXPECT_TRUE(back.leads.empty());
  EXPECT_TRUE(back.contacts.empty());
  EXPECT_EQ(codec.EncodeAccount(back, leads), bytes);
  engine::AccountState zeroed = empty;
  zeroed.AddToRole(1, roles, n, view, 0.5);
  zeroed.AddToRole(1, roles, n, view, -0.5);
  ASSERT_EQ(zeroed.role_values.size(), roles * n);
  EXPECT_EQ(codec.EncodeAccount(zeroed, leads), bytes) << "sums of 0 are not written";

  // One sum (buyer's view): its places are the varint 1 after the role's name.
  engine::AccountState one = empty;
  one.ActiveSum(view).value = 1;
  one.AddToRole(0, roles, n, view, 1);
  std::string damaged = codec.EncodeAccount(one, leads);
  const size_t at = damaged.find(std::string("\x05") + "buyer" + "\x01");
  ASSERT_NE(at, std::string::npos);
  damaged[at + 6] = '\x02';  // place 1: only one name was written
  engine::AccountState refused;
  const Status st = codec.DecodeAccount("a0", damaged, leads, &refused);
  EXPECT_FALSE(st.ok());
  EXPECT_THAT(st.message(), ::testing::HasSubstr("role sums"));
}

TEST(AccountBytesTest, AFrontCodedIdClaimingMoreThanTheIdBeforeIsRefused) {
  engine::SnapshotWriter w;
  w.PutFrontCoded("", "acct-7-lead-10");
  w.PutFrontCoded("acct-7-lead-10", "acct-7-lead-11");
  w.PutFrontCoded("acct-7-lead-11", "b");
  const std::string bytes = w.Take();
  engine::SnapshotReader r(bytes, true);
  EXPECT_EQ(r.GetFrontCoded(""), "acct-7-lead-10");
  EXPECT_EQ(r.GetFrontCoded("acct-7-lead-10"), "acct-7-lead-11");
  EXPECT_EQ(r.GetFrontCoded("acct-7-lead-11"), "b");
  EXPECT_TRUE(r.ok());
  const std::string claims_more("\x05\x01z", 3);  // claims 5 bytes of the id before
  engine::SnapshotReader wrong(claims_more, true);  // reads the bytes in place: they outlive it
  EXPECT_TRUE(wrong.GetFrontCoded("abc").empty());
  EXPECT_FALSE(wrong.good());
}

}  // namespace
}  // namespace leadscore::testing
