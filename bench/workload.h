// The benchmarks' synthetic traffic: the SPEC example model, accounts with firmographics,
// leads with committee roles, and a realistic event mix (mostly clicks and page views,
// a quarter of the traffic on 1% of the accounts, some events late). Deterministic per seed.
#pragma once

#include <cstdint>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "leadscore/v1/leadscore.pb.h"
#include "model/model.h"

namespace leadscore::bench {

constexpr int64_t kDay = 86400000;
constexpr int64_t kStart = 1790000000000;

inline std::string ExampleModelText() {
  std::ifstream in(std::string(LEADSCORE_SOURCE_DIR) + "/examples/model.yaml");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

inline std::shared_ptr<const model::Model> ExampleModel() {
  static auto m = model::LoadModelFromString(ExampleModelText()).model;
  return m;
}

struct Population {
  uint32_t leads = 1000000, accounts = 100000;
  uint32_t leads_per_account() const { return leads / accounts; }
  uint32_t account_of(uint32_t lead) const { return lead / leads_per_account(); }
};

inline std::string AccountId(uint32_t a) { return "acct-" + std::to_string(a); }
inline std::string LeadId(uint32_t l) { return "lead-" + std::to_string(l); }

// One event of the mix: which lead, which signal (by name), when.
struct EventSpec {
  uint32_t lead = 0, account = 0;
  const char* type = "";
  int64_t at_ms = 0;
  uint64_t id = 0;
};

// `n` events spread over `span_ms` from kStart in time order with up to 6 h of jitter.
inline std::vector<EventSpec> MakeEventSpecs(const Population& pop, size_t n, int64_t span_ms, std::mt19937_64& rng,
                                             uint64_t first_id = 0) {
  static const char* kMix[20] = {"email_click", "email_click", "email_click", "email_click", "email_click",
                                 "email_click", "email_click", "email_click", "pricing_page_view",
                                 "pricing_page_view", "pricing_page_view", "pricing_page_view", "pricing_page_view",
                                 "whitepaper_download", "whitepaper_download", "whitepaper_download",
                                 "webinar_attended", "webinar_attended", "product_trial_started", "unsubscribe"};
  std::vector<EventSpec> out;
  out.reserve(n);
  const double step = static_cast<double>(span_ms) / static_cast<double>(std::max<size_t>(1, n));
  for (size_t i = 0; i < n; ++i) {
    EventSpec e;
    e.id = first_id + i;
    e.account = rng() % 4 == 0 ? static_cast<uint32_t>(rng() % std::max<uint32_t>(1, pop.accounts / 100))
                               : static_cast<uint32_t>(rng() % pop.accounts);
    e.lead = e.account * pop.leads_per_account() + static_cast<uint32_t>(rng() % pop.leads_per_account());
    e.type = kMix[rng() % 20];
    e.at_ms = kStart + static_cast<int64_t>(static_cast<double>(i) * step) - static_cast<int64_t>(rng() % (6 * 3600 * 1000));
    out.push_back(e);
  }
  return out;
}

// ---- as leadscore.v1.Input (what Kafka carries) ---------------------------------------
inline v1::Input AccountProfileRecord(uint32_t a, std::mt19937_64& rng) {
  static const char* kIndustries[] = {"software", "fintech", "retail", "manufacturing", "health"};
  static const char* kCountries[] = {"NL", "DE", "GB", "US", "US", "US", "FR", "BR"};
  static const char* kMarkets[] = {"Benelux", "DACH", "UKI", "NA"};
  v1::Input in;
  auto* p = in.mutable_account();
  p->set_account_id(AccountId(a));
  p->set_industry(kIndustries[rng() % 5]);
  p->set_employee_count(static_cast<int64_t>(10 + rng() % 20000));
  p->set_country(kCountries[rng() % 8]);
  p->set_market(kMarkets[rng() % 4]);
  p->set_updated_at_ms(1);
  return in;
}

inline v1::Input LeadProfileRecord(const Population& pop, uint32_t l, std::mt19937_64& rng) {
  static const char* kRoles[] = {"economic_buyer", "champion", "technical_evaluator", "procurement", "end_user", "none"};
  static const char* kSeniority[] = {"vp", "c_level", "director", "manager", "staff", "staff"};
  static const char* kDomains[] = {"corp.example", "corp.example", "corp.example", "gmail.com"};
  v1::Input in;
  auto* p = in.mutable_lead();
  p->set_lead_id(LeadId(l));
  p->set_account_id(AccountId(pop.account_of(l)));
  p->set_role(kRoles[rng() % 6]);
  p->set_seniority(kSeniority[rng() % 6]);
  p->set_email_domain(kDomains[rng() % 4]);
  p->set_updated_at_ms(1);
  return in;
}

inline v1::Input EventRecord(const EventSpec& e) {
  v1::Input in;
  auto* ev = in.mutable_event();
  ev->set_event_id("ev-" + std::to_string(e.id));
  ev->set_lead_id(LeadId(e.lead));
  ev->set_account_id(AccountId(e.account));
  ev->set_type(e.type);
  ev->set_occurred_at_ms(e.at_ms);
  return in;
}

}  // namespace leadscore::bench
