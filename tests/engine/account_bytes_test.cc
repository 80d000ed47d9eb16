// An account's bytes from version 10 (snapshot_codec.h): role sums grouped by role, a
// signal by its place among the names written before it, and lead ids front-coded.
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

// kTestModel: signals view, demo, unsub; roles buyer, user.
TEST(AccountBytesTest, RoleSumsAndLeadIdsReadBackAsWritten) {
  const auto model = MustLoad(kTestModel);
  const engine::SnapshotCodec codec(*model);
  const size_t n = model->signals.size();
  const size_t view = *model->SignalIndex("view"), demo = *model->SignalIndex("demo");
  engine::IdTable leads;
  engine::AccountState a;
  a.exists = true;
  a.clock = kT0;
  a.ActiveSum(view).value = 2.5;  // demo has no sum of the account's own: a further name
  a.role_values.assign(2 * n, 0.0);
  a.role_values[0 * n + view] = 1.5;   // buyer
  a.role_values[1 * n + view] = 0.75;  // user
  a.role_values[1 * n + demo] = 0.25;
  for (const char* id : {"acct-7-lead-10", "acct-7-lead-11", "acct-7-lead-2", "x"}) a.leads.push_back(leads.Intern(id));
  a.contacts = {{a.leads[1], kT0 - kHour}, {a.leads[0], kT0 - 2 * kHour}, {a.leads[3], kT0}};
  const std::string bytes = codec.EncodeAccount(a, leads);
  ASSERT_EQ(static_cast<uint8_t>(bytes[0]), engine::kSnapshotVersion);

  engine::IdTable other_ids;
  engine::AccountState back;
  ASSERT_TRUE(codec.DecodeAccount("a1", bytes, other_ids, &back).ok());
  EXPECT_EQ(back.role_values, a.role_values);
  ASSERT_EQ(back.leads.size(), a.leads.size());
  for (size_t i = 0; i < a.leads.size(); ++i) EXPECT_EQ(other_ids.Name(back.leads[i]), leads.Name(a.leads[i])) << i;
  ASSERT_EQ(back.contacts.size(), a.contacts.size());
  for (size_t i = 0; i < a.contacts.size(); ++i) {
    EXPECT_EQ(other_ids.Name(back.contacts[i].first), leads.Name(a.contacts[i].first)) << i;
    EXPECT_EQ(back.contacts[i].second, a.contacts[i].second) << i;
  }
  EXPECT_EQ(codec.EncodeAccount(back, other_ids), bytes) << "written again to the same bytes";
  // An id shares its prefix with the one before: the first contact and the first lead
  // are written whole, the third lead as what follows "acct-7-lead-".
  EXPECT_NE(bytes.find("acct-7-lead-11"), std::string::npos) << "the first contact, whole";
  EXPECT_EQ(bytes.find("acct-7-lead-2"), std::string::npos) << "front-coded: only its last character";
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
  engine::SnapshotReader wrong(std::string("\x05\x01z", 3), true);  // claims 5 bytes of the id before
  EXPECT_TRUE(wrong.GetFrontCoded("abc").empty());
  EXPECT_FALSE(wrong.good());
}

}  // namespace
}  // namespace leadscore::testing
