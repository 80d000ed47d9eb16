// The synthetic market: the same seed gives the same records, the population has the
// sizes asked for, every record decodes with the codec, and the two ways of drawing
// events have their shapes (buyers ramp up; traffic leans on the buying accounts).
#include "sim/market.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "engine/harness.h"

namespace leadscore::testing {
namespace {

using sim::EventSpec;
using sim::Market;
using sim::MarketRecord;

std::vector<std::string> Values(const std::vector<MarketRecord>& records) {
  std::vector<std::string> out;
  for (const auto& r : records) out.push_back(r.value);
  return out;
}

std::vector<std::string> Values(const Market& m, const std::vector<EventSpec>& specs) {
  std::vector<std::string> out;
  for (const auto& e : specs) out.push_back(m.Record(e).value);
  return out;
}

TEST(MarketTest, SameSeedGivesTheSameRecordsAnotherSeedOthers) {
  auto play = [](uint64_t seed) {
    Market m({.accounts = 300, .seed = seed, .buying_share = 0.1});
    m.PlaceBuyers(kT0, 7 * kDay);
    std::vector<std::string> out = Values(m.Profiles(kT0));
    for (int64_t t = kT0; t < kT0 + 28 * kDay; t += 6 * kHour) {
      for (auto& v : Values(m.Events(t, t + 6 * kHour))) out.push_back(std::move(v));
    }
    for (auto& v : Values(m, m.Traffic(5000, kT0, 30 * kDay))) out.push_back(std::move(v));
    return out;
  };
  const auto a = play(42);
  EXPECT_GT(a.size(), 5000u + 300u);
  EXPECT_EQ(a, play(42));
  EXPECT_NE(a, play(43));
}

TEST(MarketTest, ProfilesAreTheSameWhicheverIsAskedForFirst) {
  Market fresh({.accounts = 200, .seed = 7});
  Market used({.accounts = 200, .seed = 7});
  used.PlaceBuyers(kT0, kDay);
  (void)used.Events(kT0, kT0 + 7 * kDay);
  (void)used.Traffic(1000, kT0, kDay);
  const auto records = used.Profiles(kT0);
  const uint32_t lead = fresh.leads() - 1, account = fresh.AccountOf(lead);
  const std::string lead_bytes = codec::EncodeInput(fresh.LeadProfile(lead, kT0), codec::Format::kProtobuf);
  const std::string account_bytes = codec::EncodeInput(fresh.AccountProfile(account, kT0), codec::Format::kProtobuf);
  EXPECT_EQ(records.back().value, lead_bytes);
  EXPECT_EQ(records[records.size() - 1 - (lead - fresh.FirstLead(account)) - 1].value, account_bytes);
}

TEST(MarketTest, PopulationHasTheSizesAskedForAndEveryAccountACommittee) {
  Market m({.accounts = 1000, .leads = 10000});
  EXPECT_EQ(m.accounts(), 1000u);
  EXPECT_EQ(m.leads(), 10000u);
  EXPECT_EQ(m.Profiles(kT0).size(), 11000u);
  uint32_t smallest = UINT32_MAX, largest = 0;
  for (uint32_t a = 0; a < m.accounts(); ++a) {
    const uint32_t n = m.FirstLead(a + 1) - m.FirstLead(a);
    smallest = std::min(smallest, n);
    largest = std::max(largest, n);
    EXPECT_EQ(m.AccountOf(m.FirstLead(a)), a);
    EXPECT_EQ(m.AccountOf(m.FirstLead(a + 1) - 1), a);
  }
  EXPECT_GE(smallest, 1u);
  EXPECT_LT(smallest, largest) << "committee sizes vary";

  // Without a lead count: the demo's committees of 2 to 7.
  Market demo({.accounts = 2000});
  smallest = UINT32_MAX, largest = 0;
  for (uint32_t a = 0; a < demo.accounts(); ++a) {
    smallest = std::min(smallest, demo.FirstLead(a + 1) - demo.FirstLead(a));
    largest = std::max(largest, demo.FirstLead(a + 1) - demo.FirstLead(a));
  }
  EXPECT_EQ(smallest, 2u);
  EXPECT_EQ(largest, 7u);
  EXPECT_NEAR(demo.leads(), 2000 * 4.5, 300);
  EXPECT_NEAR(demo.buying_accounts(), 20, 12);
}

TEST(MarketTest, TenMillionLeadsAreMadeByIndexWithoutBeingKept) {
  Market m({.accounts = 1000000, .leads = 10000000});
  EXPECT_EQ(m.leads(), 10000000u);
  const auto last = m.LeadProfile(m.leads() - 1, kT0);
  EXPECT_EQ(last.account_id, "acct-999999");
  EXPECT_EQ(m.AccountOf(m.leads() - 1), 999999u);
  EXPECT_EQ(m.AccountProfile(999999, kT0).account_id, "acct-999999");
  EXPECT_NEAR(m.buying_accounts(), 10000, 500);
}

class MarketDecodeTest : public ::testing::TestWithParam<codec::Format> {
 protected:
  MarketDecodeTest()
      : model_(model::LoadModelFromFile(std::string(LEADSCORE_SOURCE_DIR) + "/examples/model.yaml").model),
        decoder_(*model_, leads_, accounts_) {}

  // Decodes with the record's key; returns the input or fails the test.
  engine::Input Decode(const MarketRecord& r) {
    auto in = decoder_.Decode(r.value, GetParam(), r.key);
    EXPECT_TRUE(in.ok()) << in.status().message() << " in " << r.value;
    return in.ok() ? *in : engine::Input{};
  }

  std::shared_ptr<const model::Model> model_;
  engine::IdTable leads_, accounts_;
  codec::Decoder decoder_;
};

TEST_P(MarketDecodeTest, EveryRecordDecodesWithTheCodecUnderItsKey) {
  Market m({.accounts = 200, .seed = 3, .buying_share = 0.2, .format = GetParam()});
  m.PlaceBuyers(kT0, 7 * kDay);
  size_t leads = 0, accounts = 0;
  for (const auto& r : m.Profiles(kT0)) {
    EXPECT_EQ(r.topic, "profiles");
    const auto in = Decode(r);
    leads += std::holds_alternative<engine::LeadProfileInput>(in);
    accounts += std::holds_alternative<engine::AccountProfileInput>(in);
  }
  EXPECT_EQ(leads, m.leads());
  EXPECT_EQ(accounts, m.accounts());
  std::vector<MarketRecord> events = m.Events(kT0, kT0 + 14 * kDay);
  for (const auto& e : m.Traffic(2000, kT0, 14 * kDay)) events.push_back(m.Record(e));
  std::set<uint64_t> keys;
  for (const auto& r : events) {
    EXPECT_EQ(r.topic, "engagement-events");
    const auto in = Decode(r);
    ASSERT_TRUE(std::holds_alternative<engine::EventInput>(in));
    const auto& e = std::get<engine::EventInput>(in);
    EXPECT_NE(e.signal, engine::kUnknownSignal) << "every type is a signal of the example model";
    EXPECT_EQ(e.occurred_at_ms, r.at_ms);
    keys.insert(e.event_key);
  }
  EXPECT_EQ(keys.size(), events.size()) << "event ids are unique";
  EXPECT_EQ(leads_.size(), m.leads()) << "events name only known leads";
}

INSTANTIATE_TEST_SUITE_P(Formats, MarketDecodeTest, ::testing::Values(codec::Format::kProtobuf, codec::Format::kJson),
                         [](const auto& info) { return info.param == codec::Format::kJson ? "Json" : "Protobuf"; });

TEST(MarketTest, BuyingCommitteesRampUpOverThreeWeeksThenStop) {
  Market m({.accounts = 500, .buying_share = 1, .noise_events_per_day = 0, .scanner_share = 0});
  m.PlaceBuyers(kT0, 1);  // every ramp starts at kT0
  const size_t first_day = m.Activity(kT0, kT0 + kDay).size();
  const size_t third_week = m.Activity(kT0 + 19 * kDay, kT0 + 20 * kDay).size();
  EXPECT_GT(first_day, 0u);
  EXPECT_GT(third_week, 4 * first_day);
  EXPECT_TRUE(m.Activity(kT0 + 22 * kDay, kT0 + 23 * kDay).empty()) << "no background asked for";
  const auto window = m.Activity(kT0 + 10 * kDay, kT0 + 11 * kDay);
  EXPECT_TRUE(std::is_sorted(window.begin(), window.end(),
                             [](const EventSpec& x, const EventSpec& y) { return x.at_ms < y.at_ms; }));
  for (const auto& e : window) {
    EXPECT_GE(e.at_ms, kT0 + 10 * kDay);
    EXPECT_LT(e.at_ms, kT0 + 11 * kDay);
  }
}

// A few accounts' mail gateways open every link of the weekly campaign mail: 21 clicks
// in 147 ms over three leads, once a week, at a whole minute; nothing else of them.
TEST(MarketTest, ScannerAccountsClickEveryLinkOfTheWeeklyMailInABurst) {
  Market m({.accounts = 2000, .buying_share = 0, .noise_events_per_day = 0});
  EXPECT_NEAR(m.scanner_accounts(), 20, 12);
  ASSERT_GT(m.scanner_accounts(), 0u);
  std::map<uint32_t, std::vector<EventSpec>> by_account;
  for (int64_t t = kT0; t < kT0 + 28 * kDay; t += 6 * kHour) {  // in steps, as the demo asks
    for (const auto& e : m.Activity(t, t + 6 * kHour)) by_account[e.account].push_back(e);
  }
  EXPECT_EQ(by_account.size(), m.scanner_accounts()) << "only scanners, with no background";
  for (const auto& [a, events] : by_account) {
    ASSERT_TRUE(m.IsScanner(a));
    const uint32_t people = std::min<uint32_t>(3, m.FirstLead(a + 1) - m.FirstLead(a));
    ASSERT_EQ(events.size(), 4 * 7 * people) << "one mail a week, 7 links each";
    for (size_t b = 0; b < events.size(); b += 7 * people) {
      EXPECT_EQ(events[b].at_ms % 60000, 0) << "at a whole minute";
      EXPECT_EQ(events[b + 7 * people - 1].at_ms - events[b].at_ms, (7 * people - 1) * 7);
    }
    EXPECT_EQ(events[7 * people].at_ms - events[0].at_ms, 7 * kDay);
  }
  Market none({.accounts = 2000, .scanner_share = 0});
  EXPECT_EQ(none.scanner_accounts(), 0u);
}

TEST(MarketTest, TrafficLeansAQuarterOnTheBuyingAccountsAndArrivesUpTo6HoursLate) {
  Market m({.accounts = 10000, .leads = 100000});
  const auto traffic = m.Traffic(200000, kT0, 60 * kDay);
  ASSERT_EQ(traffic.size(), 200000u);
  size_t on_buyers = 0, late = 0;
  std::map<std::string, size_t> types;
  for (size_t i = 0; i < traffic.size(); ++i) {
    const EventSpec& e = traffic[i];
    ASSERT_EQ(m.AccountOf(e.lead), e.account);
    EXPECT_EQ(e.id, i);
    on_buyers += m.IsBuying(e.account);
    late += i > 0 && e.at_ms < traffic[i - 1].at_ms;
    ++types[e.type];
    EXPECT_GT(e.at_ms, kT0 - 6 * kHour);
    EXPECT_LT(e.at_ms, kT0 + 60 * kDay);
  }
  const double buyers_share = static_cast<double>(m.buying_accounts()) / m.accounts();
  EXPECT_NEAR(static_cast<double>(on_buyers) / traffic.size(), 0.25 + 0.75 * buyers_share, 0.01);
  EXPECT_GT(late, traffic.size() / 4);
  EXPECT_NEAR(static_cast<double>(types["email_click"]) / traffic.size(), 0.4, 0.01);
  EXPECT_EQ(types.size(), 6u);
}

// The demo's market for `weeks`, in its 6 h steps, with or without outcomes: the events
// and the outcomes as records.
struct Played {
  std::vector<std::string> events;
  std::vector<codec::WireOutcome> outcomes;
};
Played PlayWithOutcomes(bool outcomes, uint64_t seed) {
  Market m({.accounts = 2000, .seed = seed, .outcomes = outcomes});
  m.PlaceBuyers(kT0 + 3 * kDay, 18 * kDay);
  Played p;
  for (int64_t t = kT0; t < kT0 + 6 * 7 * kDay; t += 6 * kHour) {
    for (auto& v : Values(m.Events(t, t + 6 * kHour))) p.events.push_back(std::move(v));
    if (!outcomes) continue;
    for (const auto& r : m.DueOutcomes(t + 6 * kHour)) {
      EXPECT_EQ(r.topic, "sales-outcomes");
      EXPECT_GE(r.at_ms, t) << "due in the step asked for, never late";
      auto o = codec::DecodeOutcome(r.value, codec::Format::kProtobuf);
      EXPECT_TRUE(o.ok() && o->has_value());
      if (o.ok() && o->has_value()) p.outcomes.push_back(**o);
    }
  }
  return p;
}

TEST(MarketTest, OutcomesLeaveTheEventStreamAsItWasAndAreTheSameForASeed) {
  const Played with = PlayWithOutcomes(true, 42);
  EXPECT_EQ(with.events, PlayWithOutcomes(false, 42).events);
  const Played again = PlayWithOutcomes(true, 42);
  ASSERT_EQ(with.outcomes.size(), again.outcomes.size());
  for (size_t i = 0; i < with.outcomes.size(); ++i) {
    EXPECT_EQ(codec::EncodeInput(with.outcomes[i], codec::Format::kJson),
              codec::EncodeInput(again.outcomes[i], codec::Format::kJson));
  }
}

TEST(MarketTest, BuyersLeadsAreAcceptedAndWonNoiseLeadsRejectedWithReasons) {
  const Played p = PlayWithOutcomes(true, 42);
  Market m({.accounts = 2000, .seed = 42});
  std::map<codec::WireOutcomeKind, int> buyer, noise;
  std::set<std::string> reasons;
  for (const auto& o : p.outcomes) {
    const uint32_t account = static_cast<uint32_t>(std::stoul(o.account_id.substr(5)));
    (m.IsBuying(account) ? buyer : noise)[o.kind]++;
    EXPECT_TRUE(o.routing_id.empty()) << "the market does not run the scorer";
    EXPECT_GT(o.occurred_at_ms, kT0);
    if (o.kind == codec::WireOutcomeKind::kRejected) {
      EXPECT_FALSE(o.reason.empty());
      reasons.insert(o.reason);
    }
    if (o.kind == codec::WireOutcomeKind::kClosedWon) {
      EXPECT_GT(o.amount, 0);
    }
    if (o.kind == codec::WireOutcomeKind::kAccepted || o.kind == codec::WireOutcomeKind::kRejected) {
      EXPECT_FALSE(o.lead_id.empty()) << "a lead is accepted or rejected";
    }
  }
  using K = codec::WireOutcomeKind;
  EXPECT_GT(buyer[K::kAccepted], 3 * buyer[K::kRejected]);
  EXPECT_GT(buyer[K::kOpportunityCreated], 0);
  EXPECT_GT(buyer[K::kClosedWon], 0);
  EXPECT_GT(noise[K::kRejected], noise[K::kAccepted]);
  EXPECT_GE(reasons.size(), 3u);
}

}  // namespace
}  // namespace leadscore::testing
