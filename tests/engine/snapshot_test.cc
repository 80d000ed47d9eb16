// Persistence: what TakeChanges writes, Restore brings back, so that a restored
// engine continues exactly like the one that never stopped.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <sstream>

#include "engine/harness.h"
#include "engine/snapshot.h"

namespace leadscore::testing {
namespace {

using Store = std::map<std::pair<engine::EntityKind, std::string>, std::string>;

void Drain(Harness& h, Store* store) {
  std::vector<engine::Engine::Change> changes;
  h.engine().TakeChanges(&changes);
  for (auto& c : changes) {
    if (c.bytes.empty()) store->erase({c.kind, c.id});
    else (*store)[{c.kind, c.id}] = std::move(c.bytes);
  }
}

void RestoreInto(Harness& h, const Store& store, int64_t stream_time) {
  for (auto kind : {engine::EntityKind::kAccount, engine::EntityKind::kLead}) {  // accounts first
    for (const auto& [key, bytes] : store) {
      if (key.first != kind) continue;
      auto st = h.engine().Restore(key.first, key.second, bytes);
      ASSERT_TRUE(st.ok()) << key.second << ": " << st.message();
    }
  }
  h.engine().ResumeAt(stream_time);
}

void Feed(Harness& h, int from, int to) {
  for (int i = from; i < to; ++i) {
    const std::string lead = "l" + std::to_string(i % 7), account = "a" + std::to_string(i % 3);
    h.Event(lead, account, i % 5 == 0 ? "demo" : (i % 11 == 0 ? "unsub" : "view"), kT0 + i * kHour,
            "e" + std::to_string(i));
  }
}

TEST(SnapshotTest, ARestoredEngineContinuesExactlyLikeTheOriginal) {
  Harness original, restored;
  for (Harness* h : {&original}) {
    h->Advance(kT0);
    h->Account("a0", R"("industry":"software","country":"NL")");
    h->Account("a1", R"("industry":"retail")");
    for (int l = 0; l < 7; ++l) {
      h->Lead("l" + std::to_string(l), "a" + std::to_string(l % 3),
              std::string(R"("seniority":"vp","role":")") + (l % 2 ? "buyer" : "user") + "\"");
    }
  }
  Feed(original, 0, 120);
  original.Json(R"({"forget":{"lead_id":"l6","account_id":"a0"}})");
  Store store;
  Drain(original, &store);
  original.Take();
  RestoreInto(restored, store, original.engine().stream_time());

  for (const char* id : {"l0", "l1", "l2", "l3", "l4", "l5"}) {
    auto a = original.LeadView(id), b = restored.LeadView(id);
    EXPECT_EQ(a.tier, b.tier) << id;
    EXPECT_EQ(a.score, b.score) << id;
    EXPECT_EQ(a.signal_points, b.signal_points) << id;
    EXPECT_EQ(a.recent_changes.size(), b.recent_changes.size()) << id;
    EXPECT_EQ(a.next_check_ms, b.next_check_ms) << id;
  }
  EXPECT_FALSE(restored.engine().ViewLead("l6").has_value()) << "a forgotten lead stays forgotten";
  for (const char* id : {"a0", "a1", "a2"}) {
    auto a = original.AccountView(id), b = restored.AccountView(id);
    EXPECT_EQ(a.tier, b.tier) << id;
    EXPECT_EQ(a.score, b.score) << id;
    EXPECT_EQ(a.committee_roles, b.committee_roles) << id;
    EXPECT_EQ(a.engaged_contacts, b.engaged_contacts) << id;
  }

  // The same continuation, duplicates of old events included, gives the same events.
  for (Harness* h : {&original, &restored}) {
    Feed(*h, 100, 200);
    h->Advance(kT0 + 400 * kDay);
  }
  auto x = original.Take(), y = restored.Take();
  ASSERT_EQ(x.size(), y.size());
  ASSERT_GT(x.size(), 5u);
  for (size_t i = 0; i < x.size(); ++i) {
    EXPECT_EQ(x[i].routing_id, y[i].routing_id) << i;
    EXPECT_EQ(x[i].occurred_at_ms, y[i].occurred_at_ms) << i;
  }
  EXPECT_EQ(original.engine().stats().skipped_duplicate, restored.engine().stats().skipped_duplicate);
}

// Account a0 with a buyer's demo and then six hours of a user's views: both roles are
// engaged, and their crossings are solved at different checks.
void EngageBothRoles(Harness& h) {
  h.Advance(kT0);
  h.Account("a0", R"("industry":"software")");
  h.Lead("b1", "a0", R"("seniority":"vp","role":"buyer")");
  h.Lead("u1", "a0", R"("seniority":"vp","role":"user")");
  h.Event("b1", "a0", "demo", kT0 + kHour, "e1");
  for (int i = 0; i < 6; ++i) h.Event("u1", "a0", "view", kT0 + (2 + i) * kHour, "v" + std::to_string(i));
}

// An account keeps the committee roles' crossings its checks solved, in its bytes, so
// that one read back is checked when the one kept in memory would be. They are roots of
// the model that solved them: read under another model (here role_min_intent 20 -> 5,
// which moves the user role's fall below it, the account's next check, from 19 hours
// after the start to 2.8 days), they are solved again, and the account is checked as
// if it had been scored under that model all along.
TEST(SnapshotTest, RoleCrossingsStoredUnderOneModelAreSolvedAgainUnderAnother) {
  std::string lower = kTestModel;
  const size_t version = lower.find("version: test"), bar = lower.find("role_min_intent: 20");
  ASSERT_NE(version, std::string::npos);
  ASSERT_NE(bar, std::string::npos);
  lower.replace(bar, 19, "role_min_intent: 5");
  lower.replace(version, 13, "version: lower-role-bar");
  Harness writer, reader(lower), direct(lower);
  for (Harness* h : {&writer, &direct}) EngageBothRoles(*h);
  Store store;
  Drain(writer, &store);
  RestoreInto(reader, store, writer.engine().stream_time());
  const int64_t expected = direct.AccountView("a0").next_check_ms;
  ASSERT_GT(expected, kT0 + 8 * kHour);
  EXPECT_EQ(reader.AccountView("a0").next_check_ms, expected);
  for (int64_t day : {12, 20, 32, 60}) {
    for (Harness* h : {&reader, &direct}) h->Advance(kT0 + day * kDay);
    EXPECT_EQ(reader.AccountView("a0").next_check_ms, direct.AccountView("a0").next_check_ms) << "day " << day;
    EXPECT_EQ(reader.AccountView("a0").committee_roles, direct.AccountView("a0").committee_roles) << "day " << day;
  }
}

// A lead's profile that changes nothing of its account (no role change, no move) leaves
// the account's bytes as they were. Decayed to the profile's time but not evaluated, its
// stored clock would be newer than the one its next check was solved from, and an
// account read back solves that check again from the stored clock: with a bound (an
// unsubscribe in its sums) or a role left unsolved, at another moment than the account
// kept in memory.
TEST(SnapshotTest, ALeadProfileThatChangesNothingOfItsAccountLeavesItsBytes) {
  Harness h;
  h.Advance(kT0);
  h.Account("a0", R"("industry":"software")");
  h.Lead("l0", "a0", R"("seniority":"vp","role":"buyer")");
  h.Lead("l1", "a0", R"("seniority":"vp")");
  h.Event("l0", "a0", "demo", kT0 + kHour, "e1");
  h.Event("l1", "a0", "unsub", kT0 + 2 * kHour, "e2");
  Store before;
  Drain(h, &before);
  h.Lead("l1", "a0", R"("seniority":"director")", kT0 + 9 * kHour);
  Store after;
  Drain(h, &after);
  ASSERT_TRUE(after.count({engine::EntityKind::kLead, "l1"})) << "the lead changed";
  const auto account = std::make_pair(engine::EntityKind::kAccount, std::string("a0"));
  if (after.count(account)) {
    EXPECT_EQ(after.at(account), before.at(account));
  }
  // A role given is a change of the account: decayed and checked then.
  h.Lead("l1", "a0", R"("seniority":"director","role":"user")", kT0 + 10 * kHour);
  Store with_role;
  Drain(h, &with_role);
  ASSERT_TRUE(with_role.count(account));
  EXPECT_NE(with_role.at(account), before.at(account));
}

// `leadscore rebuild` reads the live tier from stored bytes and puts a rebuilt entity in
// it, without either model: by the name format 5 keeps.
TEST(SnapshotTest, StoredTierIsReadAndReplacedByNameInTheBytes) {
  Harness original;
  original.Advance(kT0);
  original.Account("a0", R"("industry":"software","country":"NL")");
  for (int l = 0; l < 7; ++l) original.Lead("l" + std::to_string(l), "a" + std::to_string(l % 3), R"("seniority":"vp")");
  Feed(original, 0, 120);
  Store store;
  Drain(original, &store);
  ASSERT_FALSE(store.empty());
  Store grafted;
  for (const auto& [key, bytes] : store) {
    auto tier = engine::StoredTierName(bytes);
    ASSERT_TRUE(tier.ok()) << key.second << ": " << tier.status().message();
    const auto view = key.first == engine::EntityKind::kLead ? original.LeadView(key.second)
                                                             : original.AccountView(key.second);
    EXPECT_EQ(*tier, view.tier) << key.second;
    auto same = engine::WithStoredTier(bytes, *tier);
    ASSERT_TRUE(same.ok());
    EXPECT_EQ(*same, bytes) << "its own tier: the same bytes";
    auto other = engine::WithStoredTier(bytes, "no-such-tier");
    ASSERT_TRUE(other.ok());
    EXPECT_EQ(*engine::StoredTierName(*other), "no-such-tier");
    grafted[key] = *other;
  }
  // Everything but the tier is kept: the grafted bytes load, with the same scores.
  Harness restored;
  RestoreInto(restored, grafted, original.engine().stream_time());
  for (const char* id : {"l0", "l1", "l2"}) EXPECT_EQ(restored.LeadView(id).score, original.LeadView(id).score) << id;

  std::string older = store.begin()->second;
  older[0] = 4;  // format 4 numbers tiers under the model that wrote it
  EXPECT_FALSE(engine::StoredTierName(older).ok());
  EXPECT_FALSE(engine::WithStoredTier(older, "x").ok());
  EXPECT_FALSE(engine::StoredTierName(store.begin()->second.substr(0, 20)).ok()) << "truncated";
}

TEST(SnapshotTest, EvictionDropsOnlyCleanAccountsWithTheirLeadsAndReleasesTheirIds) {
  Harness h;
  h.Advance(kT0);
  Feed(h, 0, 30);  // leads l0..l6 end in a0 {l3 l6}, a1 {l0 l4}, a2 {l1 l2 l5}
  Store store;
  Drain(h, &store);
  h.Take();
  h.Event("l3", "a0", "view", kT0 + 29 * kHour, "late");  // a0 (l3, l6) changes after the drain; no time passes
  const size_t leads = h.engine().loaded_leads(), accounts = h.engine().loaded_accounts();
  ASSERT_EQ(leads, 7u);
  ASSERT_EQ(accounts, 3u);
  h.engine().Evict(0);
  EXPECT_EQ(h.engine().loaded_accounts(), 1u) << "a0 has unsaved changes: it stays, with its leads";
  EXPECT_EQ(h.engine().loaded_leads(), 2u);
  EXPECT_FALSE(h.engine().ViewLead("l1").has_value());
  EXPECT_TRUE(h.engine().ViewLead("l6").has_value());
  EXPECT_EQ(h.engine().lead_ids().live(), 2u) << "ids of evicted leads are released";
  EXPECT_EQ(h.engine().account_ids().live(), 1u);

  // Loaded back (account first), an evicted entity is what it was.
  Harness reference;
  RestoreInto(reference, store, h.engine().stream_time());
  for (const char* id : {"a1", "a2"}) {
    auto stored = store.at({engine::EntityKind::kAccount, id});
    ASSERT_TRUE(h.engine().Restore(engine::EntityKind::kAccount, id, stored).ok());
  }
  for (const char* id : {"l0", "l1", "l2", "l4", "l5"}) {
    ASSERT_TRUE(h.engine().Restore(engine::EntityKind::kLead, id, store.at({engine::EntityKind::kLead, id})).ok());
    auto a = h.LeadView(id), b = reference.LeadView(id);
    EXPECT_EQ(a.score, b.score) << id;
    EXPECT_EQ(a.tier, b.tier) << id;
    EXPECT_EQ(a.next_check_ms, b.next_check_ms) << id;
  }
  EXPECT_FALSE(h.engine().Restore(engine::EntityKind::kLead, "l1", store.at({engine::EntityKind::kLead, "l1"})).ok())
      << "loading what is loaded would lose its changes: refused";
}

// The store keeps each entity's next check beside it (its timer index key), and each
// Change names the one it replaces: the engine keeps that with its listing, not in the
// record (EntityTable::Mark). Through events, checks that fire, forgets, leads that
// come back, eviction and loading back, every Change must name exactly the check the
// store has, and an entity loaded with its stored check is no change at all.
TEST(SnapshotTest, EachChangeNamesTheCheckTheStoreHasForItsEntity) {
  Harness h;
  h.Advance(kT0);
  std::map<std::pair<engine::EntityKind, std::string>, std::pair<std::string, int64_t>> store;  // bytes, due
  size_t changes_seen = 0, with_previous = 0, erased = 0, restored = 0;
  auto drain = [&] {
    std::vector<engine::Engine::Change> changes;
    h.engine().TakeChanges(&changes);
    for (auto& c : changes) {
      const auto it = store.find({c.kind, c.id});
      EXPECT_EQ(c.previous_due_ms, it == store.end() ? INT64_MAX : it->second.second) << c.id;
      ++changes_seen;
      with_previous += c.previous_due_ms != INT64_MAX;
      if (c.bytes.empty()) {
        ++erased;
        store.erase({c.kind, c.id});
      } else {
        store[{c.kind, c.id}] = {std::move(c.bytes), c.due_ms};
      }
    }
    return changes.size();
  };
  for (int a = 0; a < 4; ++a) h.Account("a" + std::to_string(a), a % 2 ? R"("industry":"software")" : "");
  for (int l = 0; l < 12; ++l) {
    h.Lead("l" + std::to_string(l), "a" + std::to_string(l % 4),
           std::string(R"("seniority":"vp","role":")") + (l % 3 ? "buyer" : "user") + "\"");
  }
  for (int round = 0; round < 40; ++round) {
    const int64_t at = kT0 + round * 7 * kHour;
    for (int i = 0; i < 6; ++i) {
      const int l = (round * 5 + i * 7) % 12;
      h.Event("l" + std::to_string(l), "a" + std::to_string(l % 4), i % 3 ? "view" : "demo", at + i * kMin);
    }
    if (round % 7 == 3) {
      const int l = round % 12;  // forgotten; a later event brings it back as a new lead
      h.Json(R"({"forget":{"lead_id":"l)" + std::to_string(l) + R"(","account_id":"a)" + std::to_string(l % 4) +
             "\"}}");
    }
    h.Advance(at + 6 * kHour);  // checks come due: tiers fall, and decay runs out
    drain();
    if (round % 5 == 4) {
      h.engine().Evict(0);  // every account goes, with its leads: all were drained
      ASSERT_EQ(h.engine().loaded_leads(), 0u);
      for (auto kind : {engine::EntityKind::kAccount, engine::EntityKind::kLead}) {  // accounts first
        for (const auto& [key, value] : store) {
          if (key.first != kind) continue;
          ASSERT_TRUE(h.engine().Restore(kind, key.second, value.first, value.second).ok()) << key.second;
          ++restored;
        }
      }
      EXPECT_EQ(drain(), 0u) << "loaded with the checks the store has: nothing changed";
    }
  }
  EXPECT_GT(with_previous, changes_seen / 2) << "most changes replace a check";
  EXPECT_GT(erased, 0u);
  EXPECT_GT(restored, 100u);
  h.Take();
}

TEST(SnapshotTest, EvictionCountsAccountsAsWellAsLeads) {
  Harness h;
  h.Advance(kT0);
  for (int a = 0; a < 3; ++a) {  // a0 {l00 l01}, a1 {l10 l11}, a2 {l20 l21}, each saved in its own round
    for (int l = 0; l < 2; ++l) h.Lead("l" + std::to_string(a) + std::to_string(l), "a" + std::to_string(a), "");
    std::vector<engine::Engine::Change> changes;
    h.engine().TakeChanges(&changes);
  }
  auto loaded = [&] { return h.engine().loaded_leads() + h.engine().loaded_accounts(); };
  ASSERT_EQ(h.engine().loaded_leads(), 6u);
  ASSERT_EQ(loaded(), 9u);

  h.engine().Evict(9);
  EXPECT_EQ(loaded(), 9u) << "at the limit: nothing goes";
  h.engine().Evict(7);  // 6 leads alone would fit in 7: the 3 accounts count too
  EXPECT_EQ(loaded(), 6u) << "the least recently touched account goes, with its leads";
  EXPECT_FALSE(h.engine().ViewAccount("a0").has_value());
  EXPECT_FALSE(h.engine().ViewLead("l01").has_value());
  EXPECT_TRUE(h.engine().ViewAccount("a1").has_value());
  h.engine().Evict(4);
  EXPECT_EQ(h.engine().loaded_accounts(), 1u);
  EXPECT_EQ(h.engine().loaded_leads(), 2u);
  EXPECT_TRUE(h.engine().ViewLead("l21").has_value()) << "the most recently touched stays";
}

// `accounts` accounts of two leads each, each account saved in its own round (so the
// first is the least recently touched); each lead's profile carries `notes` characters.
void Population(Harness& h, int accounts, size_t notes) {
  h.Advance(kT0);
  for (int a = 0; a < accounts; ++a) {
    for (int l = 0; l < 2; ++l) {
      h.Lead("l" + std::to_string(a) + "_" + std::to_string(l), "a" + std::to_string(a),
             R"("seniority":"vp","attributes":{"notes":")" + std::string(notes, 'n') + "\"}");
    }
    std::vector<engine::Engine::Change> changes;
    h.engine().TakeChanges(&changes);
  }
}

TEST(SnapshotTest, AByteBoundEvictsUntilTheEstimatedBytesFit) {
  Harness h;
  Population(h, 40, 100);
  auto loaded = [&] { return h.engine().loaded_leads() + h.engine().loaded_accounts(); };
  ASSERT_EQ(loaded(), 120u);
  const size_t all = h.engine().HotSetBytes();
  ASSERT_GT(all, 120u * 200) << "records (some 300 B each), their heap and names are counted";
  h.engine().Evict(SIZE_MAX, all + all / 20);
  EXPECT_EQ(loaded(), 120u) << "everything fits: nothing goes";
  h.engine().Evict(SIZE_MAX, all / 2);
  EXPECT_LE(h.engine().HotSetBytes(), all / 2);
  EXPECT_GT(loaded(), 0u);
  EXPECT_FALSE(h.engine().ViewAccount("a0").has_value()) << "the least recently touched goes first";
  EXPECT_TRUE(h.engine().ViewAccount("a39").has_value());
}

TEST(SnapshotTest, TheSameBytesHoldFewerLargeEntitiesThanSmallOnes) {
  Harness small, large;
  Population(small, 30, 0);
  Population(large, 30, 1000);  // a long profile: its whole text is kept (model changes read it)
  EXPECT_GT(large.engine().HotSetBytes(), 2 * small.engine().HotSetBytes()) << "1 000 B more per lead, counted";
  const size_t bound = small.engine().HotSetBytes() * 21 / 20;
  small.engine().Evict(SIZE_MAX, bound);
  large.engine().Evict(SIZE_MAX, bound);
  EXPECT_EQ(small.engine().loaded_leads(), 60u);
  EXPECT_LT(large.engine().loaded_leads(), 40u) << "a bound in bytes, not in entities";
  EXPECT_GT(large.engine().loaded_leads(), 0u);
  EXPECT_LE(large.engine().HotSetBytes(), bound);
}

TEST(SnapshotTest, CorruptBytesAreRefusedNotTrusted) {
  Harness h;
  h.Event("l1", "a1", "demo", kT0);
  Store store;
  Drain(h, &store);
  Harness other;
  for (const auto& [key, bytes] : store) {
    for (size_t cut = 0; cut < bytes.size(); ++cut) {
      EXPECT_FALSE(other.engine().Restore(key.first, key.second, bytes.substr(0, cut)).ok()) << cut;
    }
  }
  EXPECT_FALSE(other.engine().Restore(engine::EntityKind::kLead, "x", std::string(64, '\xff')).ok());
}

// From version 9 the whole profile is the only copy of an entity's slots: bytes whose
// profile cannot be read are refused, not loaded as an entity without one.
TEST(SnapshotTest, AnEntityWhoseWholeProfileIsDamagedIsRefused) {
  Harness h;
  h.Account("a1", R"("industry":"software","country":"NL")");
  h.Lead("l1", "a1", R"("seniority":"vp","role":"buyer")");
  Store store;
  Drain(h, &store);
  std::string& lead = store.at({engine::EntityKind::kLead, "l1"});
  ASSERT_EQ(static_cast<uint8_t>(lead[0]), engine::kSnapshotVersion);
  {
    Harness intact;
    ASSERT_NO_FATAL_FAILURE(RestoreInto(intact, store, h.engine().stream_time()));
    EXPECT_EQ(intact.LeadView("l1").fit, h.LeadView("l1").fit) << "the slots read back from the whole profile";
  }
  // The seniority as written (model/profile.h): kind 0x10 + its number, length 2, "vp".
  const std::string seniority = std::string(1, static_cast<char>(0x10 + model::kLeadSeniority)) + "\x02vp";
  const size_t at = lead.find(seniority);
  ASSERT_NE(at, std::string::npos);
  lead[at] = '\x05';  // a kind neither layout has
  Harness damaged;
  const auto& account = store.at({engine::EntityKind::kAccount, "a1"});
  ASSERT_TRUE(damaged.engine().Restore(engine::EntityKind::kAccount, "a1", account).ok());
  const Status st = damaged.engine().Restore(engine::EntityKind::kLead, "l1", lead);
  EXPECT_FALSE(st.ok());
  EXPECT_THAT(st.message(), ::testing::HasSubstr("whole profile"));
}

// Entity bytes an earlier release wrote (tests/engine/fixtures/snapshot_vN.txt, under
// snapshot_vN_model.yaml), with what the views said about them when they were written.
struct Fixture {
  std::string model;
  int64_t stream_time = 0;
  std::map<std::pair<std::string, std::string>, std::string> entities;  // (A|L, id) -> bytes
  struct Expect {
    std::string id, tier;
    double score = 0;
    int64_t next_check_ms = 0;
    int32_t held_events = 0;
    size_t recent_changes = 0;
    bool has_counts = false;  // held_events and recent_changes are given (version 3 on)
  };
  std::vector<Expect> expected;
};

Fixture ReadFixture(int version) {
  const std::string dir = std::string(LEADSCORE_SOURCE_DIR) + "/tests/engine/fixtures/snapshot_v" + std::to_string(version);
  std::ifstream model_file(dir + "_model.yaml"), lines(dir + ".txt");
  EXPECT_TRUE(model_file && lines) << dir;
  Fixture f;
  std::stringstream model_text;
  model_text << model_file.rdbuf();
  f.model = model_text.str();
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream in(line);
    std::string word;
    in >> word;
    if (word == "stream_time") {
      in >> f.stream_time;
    } else if (word == "A" || word == "L") {
      std::string id, hex;
      int64_t due = 0;
      in >> id >> due >> hex;
      std::string bytes;
      for (size_t i = 0; i + 1 < hex.size(); i += 2) bytes += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
      EXPECT_EQ(static_cast<uint8_t>(bytes[0]), version) << "a version " << version << " fixture";
      f.entities[{word, id}] = bytes;
    } else if (word == "expect") {
      Fixture::Expect e;
      in >> e.id >> e.tier >> e.score >> e.next_check_ms;
      if (in >> e.held_events >> e.recent_changes) e.has_counts = true;
      f.expected.push_back(e);
    }
  }
  return f;
}

void RestoreFixture(Harness& h, const Fixture& f) {
  for (const char* kind : {"A", "L"}) {  // accounts first
    for (const auto& [key, bytes] : f.entities) {
      if (key.first != kind) continue;
      const auto k = key.first == "A" ? engine::EntityKind::kAccount : engine::EntityKind::kLead;
      auto st = h.engine().Restore(k, key.second, bytes);
      ASSERT_TRUE(st.ok()) << key.second << ": " << st.message();
    }
  }
  h.engine().ResumeAt(f.stream_time);
}

void ExpectAsWritten(Harness& h, const Fixture& f) {
  for (const auto& e : f.expected) {
    const auto v = e.id[0] == 'a' ? h.AccountView(e.id) : h.LeadView(e.id);
    EXPECT_EQ(v.tier, e.tier) << e.id;
    EXPECT_NEAR(v.score, e.score, 1e-12) << e.id;
    EXPECT_EQ(v.next_check_ms, e.next_check_ms) << e.id;
    if (e.has_counts) {
      EXPECT_EQ(v.held_events, e.held_events) << e.id;
      EXPECT_EQ(v.recent_changes.size(), e.recent_changes) << e.id;
    }
  }
}

// The fixture's `entities` entities loaded, each as the views said when it was written.
void RestoreAsWritten(Harness& h, const Fixture& f, size_t entities) {
  ASSERT_EQ(f.entities.size(), entities);
  RestoreFixture(h, f);
  ExpectAsWritten(h, f);
}

// Touched, an entity is written in the current layout, and reads back the same.
void ExpectRewrittenInTheCurrentVersion(Harness& h, const std::string& model) {
  std::vector<engine::Engine::Change> changes;
  h.engine().TakeChanges(&changes);
  ASSERT_FALSE(changes.empty());
  Harness again(model);
  for (auto kind : {engine::EntityKind::kAccount, engine::EntityKind::kLead}) {
    for (const auto& c : changes) {
      if (c.kind != kind) continue;
      EXPECT_EQ(static_cast<uint8_t>(c.bytes[0]), engine::kSnapshotVersion) << c.id;
      ASSERT_TRUE(again.engine().Restore(c.kind, c.id, c.bytes).ok()) << c.id;
    }
  }
  again.engine().ResumeAt(h.engine().stream_time());
  EXPECT_EQ(again.LeadView("l1").score, h.LeadView("l1").score);
}

// The fixture's `lead` has one view the burst filter holds, in a run that ends 2 s after
// the fixture's stream time: it is scored then, as it would have been without the restore.
void ExpectTheHeldViewScoredAtItsRunsEnd(Harness& h, const Fixture& f, const std::string& lead) {
  ASSERT_EQ(h.LeadView(lead).held_events, 1);
  const double before = h.LeadView(lead).intent;
  h.Advance(f.stream_time + 2 * kSec);  // the run's end
  EXPECT_EQ(h.LeadView(lead).held_events, 0);
  EXPECT_GT(h.LeadView(lead).intent, before) << "the held view is scored when its run ends short";
}

// Stored state stays readable across a layout change: bytes written by snapshot
// version 2 (before held runs) load into this engine as they were, and are written
// back in the current version.
TEST(SnapshotTest, Version2BytesFromAnEarlierReleaseStillLoad) {
  const Fixture f = ReadFixture(2);
  Harness h(f.model);
  ASSERT_NO_FATAL_FAILURE(RestoreAsWritten(h, f, 3));
  for (const auto& e : f.expected) {
    EXPECT_EQ((e.id[0] == 'a' ? h.AccountView(e.id) : h.LeadView(e.id)).held_events, 0) << e.id;
  }
  EXPECT_EQ(h.LeadView("l1").recent_changes.size(), 2u);
  h.Event("l1", "a1", "view", f.stream_time, "after-upgrade");
  ExpectRewrittenInTheCurrentVersion(h, f.model);
}

// Version 3 (held runs; before suppression and outcome signals): l2 has a run the
// burst filter still holds, which ends (and is scored) after the restore as it would
// have without it.
TEST(SnapshotTest, Version3BytesFromAnEarlierReleaseStillLoad) {
  const Fixture f = ReadFixture(3);
  Harness h(f.model);
  ASSERT_NO_FATAL_FAILURE(RestoreAsWritten(h, f, 3));
  ExpectTheHeldViewScoredAtItsRunsEnd(h, f, "l2");
  h.Event("l1", "a1", "view", f.stream_time + 3 * kSec, "after-upgrade");
  ExpectRewrittenInTheCurrentVersion(h, f.model);
}

// Version 6 (fixed widths, the last before the compact encoding), under a model with
// both filters and sales feedback: an account with its committee roles' crossings, a
// suppressed lead with outcome-era history, a lead with a REJECTED outcome's signal,
// and a lead whose event the burst filter still holds. They load as they were, go on
// as they would have, and are written back compact.
TEST(SnapshotTest, Version6BytesFromAnEarlierReleaseStillLoad) {
  const Fixture f = ReadFixture(6);
  Harness h(f.model);
  ASSERT_NO_FATAL_FAILURE(RestoreAsWritten(h, f, 4));
  ExpectTheHeldViewScoredAtItsRunsEnd(h, f, "l3");
  h.Event("l1", "a1", "view", f.stream_time + 3 * kSec, "after-upgrade");
  EXPECT_EQ(h.LeadView("l1").tier, "suppressed") << "the suppression read from version 6 holds";
  std::vector<engine::Engine::Change> changes;
  h.engine().TakeChanges(&changes);
  for (const auto& c : changes) {
    if (c.id == "l1") {
      EXPECT_EQ(static_cast<uint8_t>(c.bytes[0]), engine::kSnapshotVersion);
      EXPECT_LT(c.bytes.size() * 3, f.entities.at({"L", "l1"}).size() * 2) << "compact: under two thirds of version 6";
    }
  }
}

// Version 7 (compact, with the profile's slots beside a whole profile of named fields:
// the release before version 9), the version 6 fixture as that release wrote it back.
// Loaded as they were, the held view scored at its run's end; written back in the
// current version (from 9 on, without slots) and loaded again, every entity reads the
// same: its slots now come from the named whole profile.
TEST(SnapshotTest, Version7BytesFromAnEarlierReleaseStillLoad) {
  const Fixture f = ReadFixture(7);
  Harness h(f.model);
  ASSERT_NO_FATAL_FAILURE(RestoreAsWritten(h, f, 4));
  std::vector<engine::RoutingEvent> out;
  h.engine().Reevaluate(h.engine().account_ids().Find("a1"), "", &out);  // every entity written again
  EXPECT_TRUE(out.empty());
  Store store;
  Drain(h, &store);
  ASSERT_EQ(store.size(), 4u);
  Harness again(f.model);
  for (const auto& [key, bytes] : store) EXPECT_EQ(static_cast<uint8_t>(bytes[0]), engine::kSnapshotVersion);
  ASSERT_NO_FATAL_FAILURE(RestoreInto(again, store, h.engine().stream_time()));
  for (const auto& e : f.expected) {
    const auto was = e.id[0] == 'a' ? h.AccountView(e.id) : h.LeadView(e.id);
    const auto now = e.id[0] == 'a' ? again.AccountView(e.id) : again.LeadView(e.id);
    EXPECT_EQ(now.fit, was.fit) << e.id;
    EXPECT_EQ(now.score, was.score) << e.id;
    EXPECT_EQ(now.tier, was.tier) << e.id;
    EXPECT_EQ(now.next_check_ms, was.next_check_ms) << e.id;
  }
  EXPECT_GT(again.LeadView("l1").fit, again.LeadView("l3").fit)
      << "l1's seniority (vp, in its named whole profile) counts, l3's (director) not; same account";
  ExpectTheHeldViewScoredAtItsRunsEnd(again, f, "l3");
}

// Accounts written before the crossings were stored (version 5: version 6's layout
// without them at the end) load as accounts whose crossings are not solved yet, and
// are checked when the one that kept them is.
TEST(SnapshotTest, Version5AccountBytesWithoutRoleCrossingsStillLoad) {
  Fixture f = ReadFixture(6);
  Harness with_crossings(f.model), without(f.model);
  RestoreFixture(with_crossings, f);
  std::string& bytes = f.entities.at({"A", "a1"});
  // u8 count (2 roles), u64 model digest, i64 per role, u64 engaged bits.
  const size_t crossings = 1 + 8 + 2 * 8 + 8;
  ASSERT_EQ(bytes[bytes.size() - crossings], 2);
  bytes.resize(bytes.size() - crossings);
  bytes[0] = 5;
  RestoreFixture(without, f);
  EXPECT_EQ(without.AccountView("a1").next_check_ms, with_crossings.AccountView("a1").next_check_ms);
  EXPECT_EQ(without.AccountView("a1").committee_roles, with_crossings.AccountView("a1").committee_roles);
}

// Times are written as distances from the entity's clock; every int64 time, the
// sentinels and the one whose code wraps included, reads back as itself.
TEST(SnapshotTest, EveryTimeHasOneCodeThatReadsBackAsItself) {
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min(), kMax = std::numeric_limits<int64_t>::max();
  for (int64_t base : {int64_t{0}, int64_t{1}, kT0, -kT0, kMin, kMax}) {
    // base ± 1 wrap around at the ends, as two's complement does (without signed overflow).
    auto plus = [](int64_t x, int64_t d) {
      return static_cast<int64_t>(static_cast<uint64_t>(x) + static_cast<uint64_t>(d));
    };
    std::vector<int64_t> times = {kMin, kMin + 1, kMax, kMax - 1, 0, base, plus(base, 1), plus(base, -1), kT0 + kDay};
    times.push_back(static_cast<int64_t>(static_cast<uint64_t>(base) + (uint64_t{1} << 63)));  // its code wraps
    std::set<uint64_t> codes;
    for (int64_t t : times) {
      engine::SnapshotWriter w;
      w.PutTime(t, base);
      const std::string bytes = w.Take();
      engine::SnapshotReader r(bytes, true);
      EXPECT_EQ(r.GetTime(base), t) << "base " << base;
      EXPECT_TRUE(r.ok());
      codes.insert(engine::TimeCode::Encode(t, base));
    }
    EXPECT_EQ(codes.size(), std::set<int64_t>(times.begin(), times.end()).size()) << "one code per time, base " << base;
  }
  engine::SnapshotWriter w;
  w.PutTime(kT0 + 90 * kSec, kT0);
  EXPECT_EQ(w.Take().size(), 3u) << "90 s from the clock: 3 bytes, not 8";
}

// A varint is at most 64 bits: ten bytes whose last carries more, or eleven, are refused.
TEST(SnapshotTest, AVarintOfMoreThan64BitsIsRefused) {
  const std::string max = std::string(9, '\xff') + '\x01';
  engine::SnapshotReader ok(max, true);
  EXPECT_EQ(ok.GetInt<uint64_t>(), std::numeric_limits<uint64_t>::max());
  EXPECT_TRUE(ok.ok());
  for (const std::string& bad : {std::string(9, '\xff') + '\x02', std::string(10, '\xff') + '\x01'}) {
    engine::SnapshotReader r(bad, true);
    r.GetInt<uint64_t>();
    EXPECT_FALSE(r.good());
  }
  const std::string two_to_32("\x80\x80\x80\x80\x10", 5);  // not a u32
  engine::SnapshotReader narrow(two_to_32, true);
  narrow.GetInt<uint32_t>();
  EXPECT_FALSE(narrow.good());
}

// A routing id is 32 hex digits: 17 bytes compact. Other text (an id from before, or
// from elsewhere) reads back as it was.
TEST(SnapshotTest, RoutingIdsAreStoredAsTheirBytesAndOtherTextAsItIs) {
  for (const std::string text : {"66ad108b8e970803882d2e59b082ae98", "", "0", "0a", "ABCD", "r1", "0123456789abcdefg"}) {
    engine::SnapshotWriter w;
    w.PutHexOrText(text);
    const std::string bytes = w.Take();
    engine::SnapshotReader r(bytes, true);
    EXPECT_EQ(r.GetHexOrText(), text);
    EXPECT_TRUE(r.ok()) << text;
    if (text.size() == 32) {
      EXPECT_EQ(bytes.size(), 17u);
    }
  }
}

// A lead remembers each event id once (its dedupe set indexes each key once): bytes that
// list one twice are refused as corrupt, not loaded into a set that would answer wrongly.
TEST(SnapshotTest, ARepeatedEventIdInALeadsBytesIsRefused) {
  Fixture f = ReadFixture(6);
  std::string& l1 = f.entities.at({"L", "l1"});
  // Version 6 ends a lead with: u32 2 remembered ids {u64 key, i64 at}, u32 0 held runs.
  ASSERT_EQ(l1.substr(l1.size() - 40, 4), std::string("\x02\0\0\0", 4));
  Harness h(f.model);
  ASSERT_TRUE(h.engine().Restore(engine::EntityKind::kAccount, "a1", f.entities.at({"A", "a1"})).ok());
  std::string repeated = l1;
  repeated.replace(repeated.size() - 20, 8, l1.substr(l1.size() - 36, 8));  // the second key := the first
  const Status st = h.engine().Restore(engine::EntityKind::kLead, "l1", repeated);
  EXPECT_FALSE(st.ok());
  EXPECT_THAT(st.message(), ::testing::HasSubstr("repeated event id"));
  EXPECT_TRUE(h.engine().Restore(engine::EntityKind::kLead, "l1", l1).ok()) << "the bytes as written load";
}

TEST(SnapshotTest, AnUnknownVersionIsRefused) {
  Harness h;
  h.Event("l1", "a1", "demo", kT0);
  Store store;
  Drain(h, &store);
  Harness other;
  std::string account = store.at({engine::EntityKind::kAccount, "a1"});
  for (uint8_t v : {uint8_t{1}, static_cast<uint8_t>(engine::kSnapshotVersion + 1)}) {
    account[0] = static_cast<char>(v);
    auto st = other.engine().Restore(engine::EntityKind::kAccount, "a1", account);
    EXPECT_FALSE(st.ok());
    EXPECT_THAT(st.message(), ::testing::HasSubstr("unknown snapshot version"));
  }
}

// TakeChanges reads a commit's changed entities ahead by groups of 32 (EntityTable::
// LoadToEncodeAccounts and LoadToEncodeLeads): what it hands over for many changes at
// once is what it hands over for them one at a time. More than a group of each kind;
// ids longer than a string keeps inline; an account listing more leads than are read
// ahead; entities without a profile, a forgotten lead and a forgotten account among
// them.
TEST(SnapshotTest, ManyChangesTakenAtOnceAreWhatTheyAreTakenOneAtATime) {
  Harness together, one_by_one;
  Store at_once, each;
  auto account = [](int a) { return "account-with-a-long-id-" + std::to_string(a); };
  auto lead = [](int l) { return "lead-with-a-long-id-" + std::to_string(l); };
  auto feed = [&](auto&& f) {
    for (int a = 0; a < 40; ++a) f([&](Harness& h) { h.Account(account(a), R"("industry":"software")"); });
    for (int l = 0; l < 100; ++l) {
      // Account 0 lists 40 leads; the others one or two.
      const std::string of = l < 40 ? account(0) : account(l % 40);
      f([&](Harness& h) { h.Lead(lead(l), of, std::string(R"("role":")") + (l % 2 ? "buyer" : "user") + "\""); });
    }
    for (int i = 0; i < 300; ++i) {
      const int l = (i * 7) % 100;
      f([&](Harness& h) {
        h.Event(lead(l), l < 40 ? account(0) : account(l % 40), i % 5 == 0 ? "demo" : "view", kT0 + i * kMin,
                "e" + std::to_string(i));
      });
    }
    f([&](Harness& h) {
      h.Event("lead-of-an-account-without-a-profile", "account-without-a-profile", "view", kT0 + 301 * kMin, "e-alone");
    });
    f([&](Harness& h) {
      h.Json(R"({"forget":{"lead_id":"lead-with-a-long-id-3","account_id":"account-with-a-long-id-0"}})");
    });
    f([&](Harness& h) { h.Json(R"({"forget":{"account_id":"account-with-a-long-id-7"}})"); });
    f([&](Harness& h) { h.Advance(kT0 + 2 * kDay); });
  };
  feed([&](auto&& apply) { apply(together); });
  feed([&](auto&& apply) {
    apply(one_by_one);
    Drain(one_by_one, &each);
  });
  std::vector<engine::Engine::Change> changes;
  together.engine().TakeChanges(&changes);
  size_t leads = 0, accounts = 0, erased = 0;
  std::set<std::pair<engine::EntityKind, std::string>> listed;
  for (auto& c : changes) {
    EXPECT_TRUE(listed.insert({c.kind, c.id}).second) << c.id << " listed twice";
    (c.kind == engine::EntityKind::kLead ? leads : accounts) += 1;
    if (c.bytes.empty()) ++erased;
    else at_once[{c.kind, c.id}] = std::move(c.bytes);
  }
  EXPECT_GT(leads, 64u) << "more than two groups of leads";
  EXPECT_GT(accounts, 32u) << "more than a group of accounts";
  EXPECT_GE(erased, 2u) << "the forgotten lead and account";
  EXPECT_EQ(at_once.count({engine::EntityKind::kLead, lead(3)}), 0u);
  EXPECT_EQ(at_once.count({engine::EntityKind::kAccount, account(7)}), 0u);
  ASSERT_EQ(at_once.size(), each.size());
  for (const auto& [key, bytes] : each) {
    ASSERT_TRUE(at_once.count(key)) << key.second;
    EXPECT_EQ(at_once.at(key), bytes) << key.second;
  }
}

}  // namespace
}  // namespace leadscore::testing
