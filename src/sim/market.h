// The synthetic B2B market: the one generator behind `demo`, `generate`, the crash test
// and the benchmarks. A population of accounts with firmographics and leads in buying
// committees (an economic buyer, a champion, ... then anyone), a few buying accounts,
// some outside the target countries; and two ways to draw its engagement:
//   Events(from, to)   the market in simulated time: a background trickle of clicks on
//                      every account, buying accounts whose committee ramps up over
//                      three weeks, and the weekly campaign mail opened link by link by
//                      the mail-security scanner of a few accounts (a burst of clicks,
//                      not a person's interest); time-ordered records (demo, generate,
//                      crash test).
//   DueOutcomes(to)    what sales answered (SalesOutcome records, SPEC section 2) for
//                      the leads Events() made interesting: buying accounts' leads are
//                      mostly accepted, some become opportunities, won or lost; noise
//                      leads are mostly rejected with a reason. Drawn from their own
//                      random stream, so asking for them leaves Events() unchanged.
//   Traffic(n, ...)    `n` events at a steady pace, the realistic mix of the benchmarks
//                      (mostly clicks and page views, a quarter of them on the buying
//                      accounts, some up to 6 h late); compact specs, encoded on demand.
//
// The population is not stored: every profile is computed from (seed, index), so ten
// million leads cost four bytes per account, and profiles can be made in any order or
// in parallel. Records are leadscore.v1.Input produced through the codec's wire structs,
// keyed by account_id. Everything is deterministic for a seed (and, for Events and
// Traffic, the sequence of calls). Const members are thread-safe; the rest is not.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "codec/codec.h"

namespace leadscore::sim {

struct MarketOptions {
  uint32_t accounts = 2000;
  // Leads over all accounts, at least one each; committee sizes vary with the account.
  // 0: committees of 2 to 7 leads (4.5 on average).
  uint32_t leads = 0;
  uint64_t seed = 42;
  double buying_share = 0.01;         // accounts that ramp up to a purchase (Traffic's hot accounts)
  double noise_events_per_day = 0.2;  // per account, background, in Events()
  // Accounts whose mail gateway scans every link of the weekly campaign mail, in
  // Events(): 7 links x up to 3 leads, 7 ms apart, once a week at a whole minute.
  double scanner_share = 0.01;
  codec::Format format = codec::Format::kProtobuf;  // of MarketRecord::value
  // Keep what Events() did per lead, so DueOutcomes() can answer; off, nothing is kept.
  bool outcomes = false;
};

struct MarketRecord {
  std::string topic;  // engagement-events | profiles | sales-outcomes
  std::string key;    // account_id
  std::string value;  // leadscore.v1.Input in the market's format
  int64_t at_ms = 0;
};

// One engagement event, compact (32 bytes): which lead of which account, which signal
// (a static string), when, and its sequence number (the event_id is made from it).
struct EventSpec {
  uint32_t lead = 0, account = 0;
  const char* type = "";
  int64_t at_ms = 0;
  uint64_t id = 0;
};

class Market {
 public:
  explicit Market(const MarketOptions& options);

  uint32_t accounts() const { return static_cast<uint32_t>(first_lead_.size() - 1); }
  uint32_t leads() const { return first_lead_.back(); }
  uint32_t buying_accounts() const { return static_cast<uint32_t>(buyers_.size()); }
  bool IsBuying(uint32_t account) const;
  uint32_t scanner_accounts() const { return static_cast<uint32_t>(scanners_.size()); }
  bool IsScanner(uint32_t account) const;
  // Account `a`'s leads are the indices [FirstLead(a), FirstLead(a + 1)).
  uint32_t FirstLead(uint32_t account) const { return first_lead_[account]; }
  uint32_t AccountOf(uint32_t lead) const;

  // Profiles by index, stamped `at_ms`: "acct-<a>" and "acct-<a>-lead-<j>", where j is
  // the lead's place in its account's committee.
  codec::WireAccountProfile AccountProfile(uint32_t account, int64_t at_ms) const;
  codec::WireLeadProfile LeadProfile(uint32_t lead, int64_t at_ms) const;
  codec::WireEvent Event(const EventSpec& e) const;

  // Every account's profile followed by its leads', as records.
  std::vector<MarketRecord> Profiles(int64_t at_ms) const;
  MarketRecord Record(const EventSpec& e) const;

  // The market in simulated time. Buying accounts start their ramp at a moment spread
  // over `horizon` from `origin`; until placed, they start at time 0.
  void PlaceBuyers(int64_t origin_ms, int64_t horizon_ms);
  // Events in [from_ms, to_ms), time-ordered.
  std::vector<EventSpec> Activity(int64_t from_ms, int64_t to_ms);
  std::vector<MarketRecord> Events(int64_t from_ms, int64_t to_ms);

  // Sales' answers due before `to_ms` and not returned yet, time-ordered; needs
  // `outcomes` and Events() called up to `to_ms` first (an answer always comes hours
  // after the events that made the lead interesting). A lead in sales' territories
  // (NL, DE, GB, US) becomes interesting when it has 3 pricing page views, webinars or
  // trials within 14 days,
  // a stand-in for being routed: the market does not run the scorer, so its outcomes
  // name the lead (and the account), not a routing_id, and SPEC section 2's join finds
  // the latest UP routing at or before them.
  std::vector<MarketRecord> DueOutcomes(int64_t to_ms);

  // `n` events evenly spread over [from_ms, from_ms + span_ms), each up to 6 h earlier
  // than its place (late arrivals), in sequence order; not sorted by time.
  std::vector<EventSpec> Traffic(size_t n, int64_t from_ms, int64_t span_ms);

 private:
  struct Traits;
  Traits TraitsOf(uint32_t account) const;
  // A scanner account's bursts in [from_ms, to_ms), appended to `out`.
  void ScannerBursts(uint32_t account, int64_t from_ms, int64_t to_ms, std::vector<EventSpec>* out);
  // Outcomes: an event of Events() seen (time order), and the answers planned for a lead.
  void Notice(const EventSpec& e);
  void PlanOutcomes(uint32_t lead, int64_t noticed_at_ms);
  struct Planned {
    int64_t at_ms;
    uint64_t seq;
    codec::WireOutcome outcome;
  };

  MarketOptions options_;
  std::vector<uint32_t> first_lead_;     // accounts + 1 entries
  std::vector<uint32_t> buyers_;         // ascending account indices
  std::vector<uint32_t> scanners_;       // ascending account indices
  std::vector<int64_t> ramp_start_ms_;   // per buyer
  std::mt19937_64 rng_;
  uint64_t next_event_ = 0;
  // With `outcomes`: per lead, the times of its recent events of interest (empty once
  // noticed), the leads noticed, the accounts with an opportunity, the answers to come.
  std::unordered_map<uint32_t, std::vector<int64_t>> interest_;
  std::unordered_set<uint32_t> noticed_, opportunity_accounts_;
  std::vector<Planned> planned_;
  uint64_t planned_seq_ = 0;
};

}  // namespace leadscore::sim
