#include "sim/market.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <string_view>
#include <tuple>

#include "common/hash.h"

namespace leadscore::sim {
namespace {

constexpr int64_t kHour = 3600 * 1000, kDay = 24 * kHour;

// A short random sequence fixed by (seed, stream, index): an entity's traits without
// keeping them, the same whichever entity is asked for first.
class Draws {
 public:
  Draws(uint64_t seed, uint64_t stream, uint64_t index) : state_(Mix64(Mix64(seed ^ stream) ^ index)) {}
  uint64_t Next() {
    state_ += 0x9e3779b97f4a7c15ULL;  // splitmix64
    return Mix64(state_);
  }
  double Unit() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  template <typename T, size_t N>
  const T& Pick(const T (&options)[N]) {
    return options[Next() % N];
  }

 private:
  uint64_t state_;
};

constexpr uint64_t kAccountStream = 0xacc0, kLeadStream = 0x1ead, kCampaignStream = 0xca3b, kOutcomeStream = 0x0c0e;
constexpr int64_t kWeek = 7 * kDay, kMinute = 60 * 1000;

const char* const kIndustries[] = {"software", "fintech", "retail", "manufacturing", "health", "logistics"};
const char* const kCountries[] = {"NL", "DE", "GB", "US", "US", "US", "DE", "GB", "FR", "BR"};
const char* const kNames[] = {"Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay", "Stark", "Wayne",
                              "Tyrell", "Cyberdyne", "Soylent", "Wonka", "Gringotts", "Oscorp", "Aperture"};
// A committee fills these places first (j < 5), then draws any of them.
const char* const kRoles[] = {"economic_buyer", "champion", "technical_evaluator", "procurement", "end_user",
                              "end_user"};
const char* const kSeniority[] = {"c_level", "vp", "director", "manager", "staff", "staff"};
const char* const kTitles[] = {"CFO", "VP Engineering", "Director IT", "Buyer", "Analyst", "Engineer"};

// Events(): the background of every account, and a buying committee's.
const char* const kNoise[] = {"email_click", "email_click", "email_click", "whitepaper_download",
                              "pricing_page_view", "unsubscribe"};
const char* const kBuying[] = {"pricing_page_view", "pricing_page_view", "webinar_attended",
                               "product_trial_started", "whitepaper_download", "email_click"};
// Traffic(): what real traffic looks like, in twentieths.
const char* const kMix[20] = {"email_click", "email_click", "email_click", "email_click", "email_click",
                              "email_click", "email_click", "email_click", "pricing_page_view",
                              "pricing_page_view", "pricing_page_view", "pricing_page_view", "pricing_page_view",
                              "whitepaper_download", "whitepaper_download", "whitepaper_download",
                              "webinar_attended", "webinar_attended", "product_trial_started", "unsubscribe"};
// The campaign mail's links, as a scanner opens them: the types they are tracked as.
const char* const kCampaignLinks[7] = {"email_click",         "pricing_page_view", "email_click", "whitepaper_download",
                                       "pricing_page_view",   "email_click",       "email_click"};
constexpr int64_t kScannerClickGapMs = 7;

// Outcomes: why sales turns a lead down, why a deal is lost.
const char* const kNoiseRejections[] = {"no_interest", "not_decision_maker", "student_or_researcher",
                                        "bad_contact_data", "existing_customer", "no_interest"};
const char* const kBuyerRejections[] = {"bad_timing", "no_budget"};
const char* const kLossReasons[] = {"competitor", "no_decision", "price"};
constexpr int64_t kInterestWindow = 14 * kDay;
constexpr size_t kInterestEvents = 3;

// What makes a person look like a prospect to sales: pricing, webinars, trials (a
// whitepaper or a click is marketing's business).
bool OfInterest(const char* type) {
  const std::string_view t(type);
  return t == "pricing_page_view" || t == "webinar_attended" || t == "product_trial_started";
}

// Sales covers these countries (the example model's targets); others are not worked.
bool InTerritory(std::string_view country) {
  return country == "NL" || country == "DE" || country == "GB" || country == "US";
}

std::string AccountId(uint32_t a) { return "acct-" + std::to_string(a); }

std::string MarketOf(const std::string& country) {
  return country == "DE" ? "DACH" : country == "NL" ? "Benelux" : country == "GB" ? "UKI" : "NA";
}

}  // namespace

// An account's draws, in a fixed order so that a seed keeps its market.
struct Market::Traits {
  const char* name;
  const char* industry;
  const char* country;
  int64_t employees;
  bool buying;
  uint32_t extra_leads_weight;  // 1..6: the committee's size beyond its first lead
  bool scanner;                 // its mail gateway opens every link of a mail (drawn last)
};

Market::Traits Market::TraitsOf(uint32_t account) const {
  Draws d(options_.seed, kAccountStream, account);
  Traits t;
  t.name = d.Pick(kNames);
  t.industry = d.Pick(kIndustries);
  t.country = d.Pick(kCountries);
  t.employees = static_cast<int64_t>(20 + std::exp(2 + 7.5 * d.Unit()));
  t.buying = d.Unit() < options_.buying_share;
  t.extra_leads_weight = 1 + static_cast<uint32_t>(d.Next() % 6);
  t.scanner = d.Unit() < options_.scanner_share;
  return t;
}

Market::Market(const MarketOptions& options) : options_(options), rng_(options.seed) {
  const uint32_t m = std::max<uint32_t>(1, options.accounts);
  std::vector<uint64_t> weight_before(m + 1, 0);
  for (uint32_t a = 0; a < m; ++a) {
    const Traits t = TraitsOf(a);
    weight_before[a + 1] = weight_before[a] + t.extra_leads_weight;
    if (t.buying) buyers_.push_back(a);
    if (t.scanner) scanners_.push_back(a);
  }
  // Every account has one lead; the rest are shared out by weight, so that the total
  // is exactly what was asked and committee sizes still vary.
  const uint64_t total_weight = weight_before[m];
  const uint64_t leads = options.leads == 0 ? m + total_weight : std::max<uint64_t>(options.leads, m);
  const uint64_t extra = leads - m;
  first_lead_.resize(m + 1);
  for (uint32_t a = 0; a <= m; ++a) {
    const auto share = static_cast<unsigned __int128>(extra) * weight_before[a] / total_weight;
    first_lead_[a] = a + static_cast<uint32_t>(share);
  }
  ramp_start_ms_.assign(buyers_.size(), 0);
}

bool Market::IsBuying(uint32_t account) const {
  return std::binary_search(buyers_.begin(), buyers_.end(), account);
}

bool Market::IsScanner(uint32_t account) const {
  return std::binary_search(scanners_.begin(), scanners_.end(), account);
}

uint32_t Market::AccountOf(uint32_t lead) const {
  // first_lead_ strictly increases (every account has a lead): the last one <= lead.
  return static_cast<uint32_t>(std::upper_bound(first_lead_.begin(), first_lead_.end(), lead) - first_lead_.begin() -
                               1);
}

codec::WireAccountProfile Market::AccountProfile(uint32_t account, int64_t at_ms) const {
  const Traits t = TraitsOf(account);
  codec::WireAccountProfile p;
  p.account_id = AccountId(account);
  p.name = std::string(t.name) + " " + std::to_string(account);
  p.industry = t.industry;
  p.employee_count = t.employees;
  p.country = t.country;
  p.market = MarketOf(p.country);
  p.updated_at_ms = at_ms;
  return p;
}

codec::WireLeadProfile Market::LeadProfile(uint32_t lead, int64_t at_ms) const {
  const uint32_t account = AccountOf(lead);
  const uint32_t place = lead - first_lead_[account];
  Draws d(options_.seed, kLeadStream, lead);
  const size_t r = place < 5 ? place : d.Next() % 6;  // committees are mostly complete
  codec::WireLeadProfile p;
  p.account_id = AccountId(account);
  p.lead_id = p.account_id + "-lead-" + std::to_string(place);
  p.role = kRoles[r];
  p.seniority = kSeniority[r];
  p.title = kTitles[r];
  p.country = TraitsOf(account).country;
  p.email_domain = d.Next() % 8 == 0 ? "gmail.com" : "corp.example";
  p.updated_at_ms = at_ms;
  return p;
}

codec::WireEvent Market::Event(const EventSpec& e) const {
  codec::WireEvent w;
  w.event_id = "ev-" + std::to_string(options_.seed) + "-" + std::to_string(e.id);
  w.account_id = AccountId(e.account);
  w.lead_id = w.account_id + "-lead-" + std::to_string(e.lead - first_lead_[e.account]);
  w.type = e.type;
  w.occurred_at_ms = e.at_ms;
  return w;
}

std::vector<MarketRecord> Market::Profiles(int64_t at_ms) const {
  std::vector<MarketRecord> out;
  out.reserve(accounts() + leads());
  for (uint32_t a = 0; a < accounts(); ++a) {
    out.push_back({"profiles", AccountId(a), codec::EncodeInput(AccountProfile(a, at_ms), options_.format), at_ms});
    for (uint32_t l = first_lead_[a]; l < first_lead_[a + 1]; ++l) {
      out.push_back({"profiles", out.back().key, codec::EncodeInput(LeadProfile(l, at_ms), options_.format), at_ms});
    }
  }
  return out;
}

MarketRecord Market::Record(const EventSpec& e) const {
  return {"engagement-events", AccountId(e.account), codec::EncodeInput(Event(e), options_.format), e.at_ms};
}

void Market::PlaceBuyers(int64_t origin_ms, int64_t horizon_ms) {
  for (auto& start : ramp_start_ms_) {
    start = origin_ms + static_cast<int64_t>(rng_() % std::max<int64_t>(1, horizon_ms));
  }
}

std::vector<EventSpec> Market::Activity(int64_t from_ms, int64_t to_ms) {
  std::vector<EventSpec> out;
  std::uniform_real_distribution<double> u(0, 1);
  const double span_days = static_cast<double>(to_ms - from_ms) / kDay;
  size_t buyer = 0;
  for (uint32_t a = 0; a < accounts(); ++a) {
    const bool buying = buyer < buyers_.size() && buyers_[buyer] == a;
    const int64_t ramp_start = buying ? ramp_start_ms_[buyer++] : 0;
    // Background: a Poisson trickle of clicks and the odd unsubscribe.
    double expected = options_.noise_events_per_day * span_days;
    // Buyers: intensity rises over three weeks from the ramp start, then stops.
    if (buying && from_ms >= ramp_start && from_ms < ramp_start + 21 * kDay) {
      const double progress = static_cast<double>(from_ms - ramp_start) / (21.0 * kDay);
      expected += span_days * (0.5 + 6.0 * progress);
    }
    if (!(expected > 0)) continue;
    const int n = std::poisson_distribution<int>(expected)(rng_);
    const uint32_t committee = first_lead_[a + 1] - first_lead_[a];
    for (int k = 0; k < n; ++k) {
      EventSpec e;
      e.account = a;
      e.lead = first_lead_[a] + static_cast<uint32_t>(rng_() % committee);
      const bool ramping = buying && from_ms >= ramp_start;
      e.type = ramping ? kBuying[rng_() % 6] : (u(rng_) < 0.02 ? "unsubscribe" : kNoise[rng_() % 6]);
      e.at_ms = from_ms + static_cast<int64_t>(u(rng_) * static_cast<double>(to_ms - from_ms));
      e.id = next_event_++;
      out.push_back(e);
    }
  }
  if (options_.outcomes) {
    // People's events only (a scanner's clicks are not interest), in time order.
    std::vector<EventSpec> people = out;
    std::stable_sort(people.begin(), people.end(),
                     [](const EventSpec& x, const EventSpec& y) { return x.at_ms < y.at_ms; });
    for (const EventSpec& e : people) Notice(e);
  }
  for (uint32_t a : scanners_) ScannerBursts(a, from_ms, to_ms, &out);
  std::stable_sort(out.begin(), out.end(), [](const EventSpec& x, const EventSpec& y) { return x.at_ms < y.at_ms; });
  return out;
}

// The campaign mail reaches an account once a week, at a whole minute of its own
// (fixed by seed and account, so the same whatever the steps asked for); its scanner
// opens the 7 links for each of up to three leads, 7 ms apart. A burst starts at a
// whole minute and lasts 147 ms, so it never straddles a step that starts on one.
void Market::ScannerBursts(uint32_t account, int64_t from_ms, int64_t to_ms, std::vector<EventSpec>* out) {
  Draws d(options_.seed, kCampaignStream, account);
  const int64_t offset = static_cast<int64_t>(d.Next() % static_cast<uint64_t>(kWeek / kMinute)) * kMinute;
  const uint32_t first = first_lead_[account], people = std::min<uint32_t>(3, first_lead_[account + 1] - first);
  const auto floor_week = [](int64_t t) { return (t >= 0 ? t : t - kWeek + 1) / kWeek; };
  for (int64_t w = floor_week(from_ms - offset); w <= floor_week(to_ms - offset); ++w) {
    const int64_t sent = w * kWeek + offset;
    for (int64_t k = 0; k < 7 * people; ++k) {
      EventSpec e;
      e.account = account;
      e.lead = first + static_cast<uint32_t>(k % people);
      e.type = kCampaignLinks[k / people];
      e.at_ms = sent + k * kScannerClickGapMs;
      if (e.at_ms < from_ms || e.at_ms >= to_ms) continue;
      e.id = next_event_++;
      out->push_back(e);
    }
  }
}

std::vector<MarketRecord> Market::Events(int64_t from_ms, int64_t to_ms) {
  std::vector<MarketRecord> out;
  for (const EventSpec& e : Activity(from_ms, to_ms)) out.push_back(Record(e));
  return out;
}

void Market::Notice(const EventSpec& e) {
  if (!OfInterest(e.type) || noticed_.contains(e.lead) || !InTerritory(TraitsOf(e.account).country)) return;
  auto& times = interest_[e.lead];
  times.push_back(e.at_ms);
  std::erase_if(times, [&](int64_t t) { return t <= e.at_ms - kInterestWindow; });
  if (times.size() < kInterestEvents) return;
  interest_.erase(e.lead);
  noticed_.insert(e.lead);
  PlanOutcomes(e.lead, e.at_ms);
}

// Every draw of a lead's answers comes from its own sequence (seed, lead), so they do
// not depend on which other leads were noticed first. What decides: whether the
// account is really buying (the market's truth, which the scorer can only guess at),
// and for a deal, its fit: buyers in the target industries and mid-market win more.
void Market::PlanOutcomes(uint32_t lead, int64_t noticed_at_ms) {
  Draws d(options_.seed, kOutcomeStream, lead);
  const uint32_t account = AccountOf(lead);
  const Traits t = TraitsOf(account);
  const bool buying = IsBuying(account);
  const codec::WireLeadProfile profile = LeadProfile(lead, 0);
  auto plan = [&](int64_t at, codec::WireOutcomeKind kind, std::string reason, double amount, bool on_account) {
    codec::WireOutcome o;
    o.account_id = profile.account_id;
    if (!on_account) o.lead_id = profile.lead_id;
    o.kind = kind;
    o.reason = std::move(reason);
    o.amount = amount;
    o.occurred_at_ms = at;
    planned_.push_back({at, planned_seq_++, std::move(o)});
  };
  // Answered 2 h to 3 days after the lead became interesting: mostly within a 48 h SLA.
  const int64_t answered = noticed_at_ms + 2 * kHour + static_cast<int64_t>(d.Unit() * 70 * kHour);
  const double accept = buying ? 0.85 : 0.3;
  if (d.Unit() >= accept) {
    plan(answered, codec::WireOutcomeKind::kRejected, buying ? d.Pick(kBuyerRejections) : d.Pick(kNoiseRejections), 0,
         false);
    return;
  }
  plan(answered, codec::WireOutcomeKind::kAccepted, "", 0, false);
  // One opportunity per account: the first accepted lead of a buyer usually opens it.
  const double open = buying ? (opportunity_accounts_.contains(account) ? 0 : 0.8) : 0.15;
  if (d.Unit() >= open) return;
  opportunity_accounts_.insert(account);
  const int64_t opened = answered + kDay + static_cast<int64_t>(d.Unit() * 9 * kDay);
  const bool target = std::string_view(t.industry) == "software" || std::string_view(t.industry) == "fintech";
  const bool mid_market = t.employees >= 200 && t.employees <= 5000;
  const double win = buying ? 0.3 + (target ? 0.25 : 0) + (mid_market ? 0.2 : 0) : 0.1;
  const int64_t closed = opened + 14 * kDay + static_cast<int64_t>(d.Unit() * 46 * kDay);
  const bool won = d.Unit() < win;
  const char* loss = d.Pick(kLossReasons);
  const double amount = won ? std::round(5000 + 20.0 * static_cast<double>(t.employees)) : 0;
  // The deal is the account's as much as the lead's: both are answered, so lead tiers
  // and account tiers each have their conversion.
  for (bool on_account : {false, true}) {
    plan(opened, codec::WireOutcomeKind::kOpportunityCreated, "", 0, on_account);
    plan(closed, won ? codec::WireOutcomeKind::kClosedWon : codec::WireOutcomeKind::kClosedLost, won ? "" : loss,
         amount, on_account);
  }
}

std::vector<MarketRecord> Market::DueOutcomes(int64_t to_ms) {
  const auto split = std::stable_partition(planned_.begin(), planned_.end(),
                                           [&](const Planned& p) { return p.at_ms < to_ms; });
  std::vector<Planned> due(std::make_move_iterator(planned_.begin()), std::make_move_iterator(split));
  planned_.erase(planned_.begin(), split);
  std::sort(due.begin(), due.end(),
            [](const Planned& x, const Planned& y) { return std::tie(x.at_ms, x.seq) < std::tie(y.at_ms, y.seq); });
  std::vector<MarketRecord> out;
  out.reserve(due.size());
  for (const Planned& p : due) {
    out.push_back({"sales-outcomes", p.outcome.account_id, codec::EncodeInput(p.outcome, options_.format), p.at_ms});
  }
  return out;
}

std::vector<EventSpec> Market::Traffic(size_t n, int64_t from_ms, int64_t span_ms) {
  std::vector<EventSpec> out;
  out.reserve(n);
  const double step = static_cast<double>(span_ms) / static_cast<double>(std::max<size_t>(1, n));
  for (size_t i = 0; i < n; ++i) {
    EventSpec e;
    e.account = !buyers_.empty() && rng_() % 4 == 0 ? buyers_[rng_() % buyers_.size()]
                                                     : static_cast<uint32_t>(rng_() % accounts());
    const uint32_t committee = first_lead_[e.account + 1] - first_lead_[e.account];
    e.lead = first_lead_[e.account] + static_cast<uint32_t>(rng_() % committee);
    e.type = kMix[rng_() % 20];
    const auto late = static_cast<int64_t>(rng_() % (6 * kHour));
    e.at_ms = from_ms + static_cast<int64_t>(static_cast<double>(i) * step) - late;
    e.id = next_event_++;
    out.push_back(e);
  }
  return out;
}

}  // namespace leadscore::sim
