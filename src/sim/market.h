// A synthetic B2B market for the demo and for load generation: accounts with
// firmographics, leads with committee roles, mostly background noise, a few buying
// accounts whose committee ramps up over weeks, some accounts outside the target
// countries. Deterministic for a seed. Records are leadscore.v1.Input, keyed by
// account_id, in time order. Not thread-safe.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace leadscore::sim {

struct MarketOptions {
  int accounts = 2000;
  uint64_t seed = 42;
  double buying_share = 0.01;         // accounts that ramp up to a purchase
  double noise_events_per_day = 0.2;  // per account, background
};

struct MarketRecord {
  std::string topic;  // engagement-events | profiles
  std::string key;    // account_id
  std::string value;  // leadscore.v1.Input, binary protobuf
  int64_t at_ms = 0;
};

class Market {
 public:
  explicit Market(const MarketOptions& options);

  // Profiles of every account and lead, stamped `at_ms`.
  std::vector<MarketRecord> Profiles(int64_t at_ms) const;
  // Engagement events in [from_ms, to_ms), time-ordered. Buying accounts ramp up over
  // the three weeks after their start, which is spread over `horizon` from `origin`.
  std::vector<MarketRecord> Events(int64_t from_ms, int64_t to_ms);
  // `n` engagement events all stamped `at_ms`, for load at a rate the caller sets (in
  // real time, where events cannot be spread over a window that has not happened yet).
  // Accounts are drawn in proportion to how active each is at `at_ms` (background plus
  // a buyer's ramp), so the mix is the one Events() would have.
  std::vector<MarketRecord> EventsAt(int64_t at_ms, int64_t n);
  void PlaceBuyers(int64_t origin_ms, int64_t horizon_ms);

  int buying_accounts() const;
  int leads() const;

 private:
  struct Lead {
    std::string id, role, seniority, title, domain;
  };
  struct Account {
    std::string id, name, industry, country, market;
    int64_t employees = 0;
    std::vector<Lead> leads;
    bool buying = false;
    int64_t ramp_start_ms = 0;
  };
  std::string EventRecord(const Account& a, const Lead& l, const std::string& type, int64_t at);
  // A buyer's extra events per day at `at_ms`: rising over the three weeks after its ramp
  // starts, 0 before and after and for everyone else.
  static double RampPerDay(const Account& a, int64_t at_ms);
  std::string EventType(const Account& a, int64_t at_ms);

  MarketOptions options_;
  std::vector<Account> accounts_;
  std::mt19937_64 rng_;
  uint64_t next_event_ = 0;
  // EventsAt's draw of accounts by activity, redrawn when the hour of `at_ms` changes.
  std::discrete_distribution<size_t> by_activity_;
  int64_t by_activity_hour_ = -1;
};

}  // namespace leadscore::sim
