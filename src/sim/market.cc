#include "sim/market.h"

#include <algorithm>
#include <cmath>

#include "leadscore/v1/leadscore.pb.h"

namespace leadscore::sim {
namespace {

constexpr int64_t kHour = 3600 * 1000, kDay = 24 * kHour;

template <typename T, size_t N>
const T& Pick(std::mt19937_64& rng, const T (&options)[N]) {
  return options[rng() % N];
}

}  // namespace

Market::Market(const MarketOptions& options) : options_(options), rng_(options.seed) {
  static const char* kIndustries[] = {"software", "fintech", "retail", "manufacturing", "health", "logistics"};
  static const char* kCountries[] = {"NL", "DE", "GB", "US", "US", "US", "DE", "GB", "FR", "BR"};
  static const char* kNames[] = {"Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay", "Stark", "Wayne",
                                 "Tyrell", "Cyberdyne", "Soylent", "Wonka", "Gringotts", "Oscorp", "Aperture"};
  static const char* kRoles[] = {"economic_buyer", "champion", "technical_evaluator", "procurement", "end_user",
                                 "end_user"};
  static const char* kSeniority[] = {"c_level", "vp", "director", "manager", "staff", "staff"};
  static const char* kTitles[] = {"CFO", "VP Engineering", "Director IT", "Buyer", "Analyst", "Engineer"};
  for (int i = 0; i < options.accounts; ++i) {
    Account a;
    a.id = "acct-" + std::to_string(i);
    a.name = std::string(Pick(rng_, kNames)) + " " + std::to_string(i);
    a.industry = Pick(rng_, kIndustries);
    a.country = Pick(rng_, kCountries);
    a.market = a.country == "DE" ? "DACH" : a.country == "NL" ? "Benelux" : a.country == "GB" ? "UKI" : "NA";
    a.employees = static_cast<int64_t>(20 + std::exp(std::uniform_real_distribution<double>(2, 9.5)(rng_)));
    a.buying = std::uniform_real_distribution<double>(0, 1)(rng_) < options.buying_share;
    const int n = 2 + static_cast<int>(rng_() % 6);
    for (int j = 0; j < n; ++j) {
      Lead l;
      l.id = a.id + "-lead-" + std::to_string(j);
      const size_t r = j < 5 ? static_cast<size_t>(j) : rng_() % 6;  // committees are mostly complete
      l.role = kRoles[r];
      l.seniority = kSeniority[r];
      l.title = kTitles[r];
      l.domain = rng_() % 8 == 0 ? "gmail.com" : "corp.example";
      a.leads.push_back(l);
    }
    accounts_.push_back(std::move(a));
  }
}

void Market::PlaceBuyers(int64_t origin_ms, int64_t horizon_ms) {
  for (auto& a : accounts_) {
    if (a.buying) a.ramp_start_ms = origin_ms + static_cast<int64_t>(rng_() % std::max<int64_t>(1, horizon_ms));
  }
}

int Market::buying_accounts() const {
  return static_cast<int>(std::count_if(accounts_.begin(), accounts_.end(), [](const Account& a) { return a.buying; }));
}

int Market::leads() const {
  int n = 0;
  for (const auto& a : accounts_) n += static_cast<int>(a.leads.size());
  return n;
}

std::vector<MarketRecord> Market::Profiles(int64_t at_ms) const {
  std::vector<MarketRecord> out;
  for (const auto& a : accounts_) {
    v1::Input in;
    auto* p = in.mutable_account();
    p->set_account_id(a.id);
    p->set_name(a.name);
    p->set_industry(a.industry);
    p->set_employee_count(a.employees);
    p->set_country(a.country);
    p->set_market(a.market);
    p->set_updated_at_ms(at_ms);
    out.push_back({"profiles", a.id, in.SerializeAsString(), at_ms});
    for (const auto& l : a.leads) {
      v1::Input li;
      auto* lp = li.mutable_lead();
      lp->set_lead_id(l.id);
      lp->set_account_id(a.id);
      lp->set_role(l.role);
      lp->set_seniority(l.seniority);
      lp->set_title(l.title);
      lp->set_country(a.country);
      lp->set_email_domain(l.domain);
      lp->set_updated_at_ms(at_ms);
      out.push_back({"profiles", a.id, li.SerializeAsString(), at_ms});
    }
  }
  return out;
}

std::string Market::EventRecord(const Account& a, const Lead& l, const std::string& type, int64_t at) {
  v1::Input in;
  auto* e = in.mutable_event();
  e->set_event_id("ev-" + std::to_string(options_.seed) + "-" + std::to_string(next_event_++));
  e->set_lead_id(l.id);
  e->set_account_id(a.id);
  e->set_type(type);
  e->set_occurred_at_ms(at);
  return in.SerializeAsString();
}

double Market::RampPerDay(const Account& a, int64_t at_ms) {
  if (!a.buying || at_ms < a.ramp_start_ms || at_ms >= a.ramp_start_ms + 21 * kDay) return 0;
  const double progress = static_cast<double>(at_ms - a.ramp_start_ms) / (21.0 * kDay);
  return 0.5 + 6.0 * progress;
}

// Background: clicks and the odd unsubscribe. From its ramp's start, a buying account
// does what buyers do.
std::string Market::EventType(const Account& a, int64_t at_ms) {
  static const char* kNoise[] = {"email_click", "email_click", "email_click", "whitepaper_download",
                                 "pricing_page_view", "unsubscribe"};
  static const char* kBuying[] = {"pricing_page_view", "pricing_page_view", "webinar_attended",
                                  "product_trial_started", "whitepaper_download", "email_click"};
  const bool ramping = a.buying && at_ms >= a.ramp_start_ms;
  if (ramping) return Pick(rng_, kBuying);
  return std::uniform_real_distribution<double>(0, 1)(rng_) < 0.02 ? "unsubscribe" : Pick(rng_, kNoise);
}

std::vector<MarketRecord> Market::Events(int64_t from_ms, int64_t to_ms) {
  std::vector<MarketRecord> out;
  std::uniform_real_distribution<double> u(0, 1);
  const double span_days = static_cast<double>(to_ms - from_ms) / kDay;
  for (const auto& a : accounts_) {
    // Background: a Poisson trickle. Buyers: intensity rises over three weeks from the
    // ramp start, then stops.
    double expected = options_.noise_events_per_day * span_days;
    expected += span_days * RampPerDay(a, from_ms);
    int n = std::poisson_distribution<int>(expected)(rng_);
    for (int k = 0; k < n; ++k) {
      const Lead& l = a.leads[rng_() % a.leads.size()];
      const std::string type = EventType(a, from_ms);
      const int64_t at = from_ms + static_cast<int64_t>(u(rng_) * static_cast<double>(to_ms - from_ms));
      out.push_back({"engagement-events", a.id, EventRecord(a, l, type, at), at});
    }
  }
  std::sort(out.begin(), out.end(), [](const MarketRecord& x, const MarketRecord& y) { return x.at_ms < y.at_ms; });
  return out;
}

std::vector<MarketRecord> Market::EventsAt(int64_t at_ms, int64_t n) {
  std::vector<MarketRecord> out;
  if (accounts_.empty() || n <= 0) return out;
  // Activity changes over days; an hour is fine enough and keeps a burst cheap.
  if (at_ms / kHour != by_activity_hour_) {
    std::vector<double> weights;
    double total = 0;
    for (const auto& a : accounts_) {
      weights.push_back(options_.noise_events_per_day + RampPerDay(a, at_ms));
      total += weights.back();
    }
    if (total <= 0) weights.assign(accounts_.size(), 1.0);  // a silent market: anyone
    by_activity_ = std::discrete_distribution<size_t>(weights.begin(), weights.end());
    by_activity_hour_ = at_ms / kHour;
  }
  out.reserve(static_cast<size_t>(n));
  for (int64_t k = 0; k < n; ++k) {
    const Account& a = accounts_[by_activity_(rng_)];
    const Lead& l = a.leads[rng_() % a.leads.size()];
    const std::string type = EventType(a, at_ms);
    out.push_back({"engagement-events", a.id, EventRecord(a, l, type, at_ms), at_ms});
  }
  return out;
}

}  // namespace leadscore::sim
