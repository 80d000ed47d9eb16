// The engine step alone: decoded events in, state and routing events out, one core.
// Realistic mix: the SPEC example model, 1 M leads in 100 k accounts with committee
// roles and profiles, the six signals weighted as real traffic is (mostly clicks and
// page views), multipliers on (DACH accounts, procurement leads).
//
//   build/bench/engine_bench [--benchmark_filter=...]
#include <benchmark/benchmark.h>

#include <fstream>
#include <random>
#include <sstream>

#include "engine/engine.h"
#include "model/model.h"

namespace leadscore {
namespace {

constexpr int64_t kDay = 86400000;
constexpr int64_t kStart = 1790000000000;
constexpr uint32_t kLeads = 1000000, kAccounts = 100000;

std::string ReadExample() {
  std::ifstream in(std::string(LEADSCORE_SOURCE_DIR) + "/examples/model.yaml");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::shared_ptr<const model::Model> Model() {
  static auto m = model::LoadModelFromString(ReadExample()).model;
  return m;
}

model::FieldValue Sym(const model::Model& m, const char* text) {
  return {true, false, m.symbols.Find(text), 0};
}

// Profiles for every account and lead; ids interned in order so lead i is id i.
void LoadProfiles(engine::Engine& eng, std::mt19937_64& rng) {
  const model::Model& m = eng.model();
  std::vector<engine::RoutingEvent> sink;
  const char* industries[] = {"software", "fintech", "retail", "manufacturing", "health"};
  const char* countries[] = {"NL", "DE", "GB", "US", "US", "US", "FR", "BR"};
  const char* markets[] = {"Benelux", "DACH", "UKI", "NA"};
  for (uint32_t a = 0; a < kAccounts; ++a) {
    engine::AccountProfileInput p;
    p.account = eng.account_ids().Intern("acct-" + std::to_string(a));
    p.updated_at_ms = 1;
    p.fields.resize(m.layout.account_slots());
    p.fields[model::kAccountIndustry] = Sym(m, industries[rng() % 5]);
    p.fields[model::kAccountEmployeeCount] = {true, true, -1, static_cast<double>(10 + rng() % 20000)};
    p.fields[model::kAccountCountry] = Sym(m, countries[rng() % 8]);
    p.fields[model::kAccountMarket] = Sym(m, markets[rng() % 4]);
    eng.Apply(p, &sink);
  }
  const char* roles[] = {"economic_buyer", "champion", "technical_evaluator", "procurement", "end_user", "none"};
  const char* seniority[] = {"vp", "c_level", "director", "manager", "staff", "staff"};
  const char* domains[] = {"corp.example", "corp.example", "corp.example", "gmail.com"};
  for (uint32_t l = 0; l < kLeads; ++l) {
    engine::LeadProfileInput p;
    p.lead = eng.lead_ids().Intern("lead-" + std::to_string(l));
    p.account = l / (kLeads / kAccounts);
    p.updated_at_ms = 1;
    p.fields.resize(m.layout.lead_slots());
    p.fields[model::kLeadRole] = Sym(m, roles[rng() % 6]);
    p.fields[model::kLeadSeniority] = Sym(m, seniority[rng() % 6]);
    p.fields[model::kLeadEmailDomain] = Sym(m, domains[rng() % 4]);
    eng.Apply(p, &sink);
  }
}

// Events over ~60 days in time order with a little jitter (some arrive late), a
// Zipf-like skew so some accounts are much busier than others.
std::vector<engine::Input> MakeEvents(const model::Model& m, size_t n, std::mt19937_64& rng) {
  const uint16_t email = *m.SignalIndex("email_click"), pricing = *m.SignalIndex("pricing_page_view"),
                 webinar = *m.SignalIndex("webinar_attended"), trial = *m.SignalIndex("product_trial_started"),
                 paper = *m.SignalIndex("whitepaper_download"), unsub = *m.SignalIndex("unsubscribe");
  const uint16_t mix[20] = {email, email, email, email, email, email, email, email, pricing, pricing,
                            pricing, pricing, pricing, paper,  paper,  paper,  webinar, webinar, trial, unsub};
  std::vector<engine::Input> out;
  out.reserve(n);
  const double step = 60.0 * kDay / static_cast<double>(n);
  for (size_t i = 0; i < n; ++i) {
    engine::EventInput e;
    e.event_key = rng();
    // Busy accounts: a quarter of the traffic goes to 1% of the accounts.
    const uint32_t account = rng() % 4 == 0 ? static_cast<uint32_t>(rng() % (kAccounts / 100))
                                            : static_cast<uint32_t>(rng() % kAccounts);
    e.account = account;
    e.lead = account * (kLeads / kAccounts) + static_cast<uint32_t>(rng() % (kLeads / kAccounts));
    e.signal = mix[rng() % 20];
    e.occurred_at_ms = kStart + static_cast<int64_t>(i * step) - static_cast<int64_t>(rng() % (6 * 3600 * 1000));
    out.emplace_back(std::move(e));
  }
  return out;
}

// Scores `per_iteration` fresh events per iteration (never the same event twice, so
// dedupe does not short-cut the work).
void BM_EngineStep(benchmark::State& state) {
  std::mt19937_64 rng(7);
  engine::Engine eng(Model());
  LoadProfiles(eng, rng);
  const size_t per_iteration = static_cast<size_t>(state.range(0));
  const size_t iterations = 3;
  auto events = MakeEvents(eng.model(), per_iteration * iterations, rng);
  std::vector<engine::RoutingEvent> out;
  out.reserve(1 << 16);
  size_t next = 0;
  for (auto _ : state) {
    constexpr size_t kBatch = 1024;
    for (size_t done = 0; done < per_iteration; done += kBatch, next += kBatch) {
      for (size_t i = 0; i < kBatch; ++i) eng.Apply(events[next + i], &out);
      out.clear();  // a sink hands them on; keep memory flat
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * per_iteration));
  const auto& s = eng.stats();
  state.counters["routed_per_1k"] = benchmark::Counter(1e3 * s.routing_events / std::max<uint64_t>(1, s.events_scored));
  state.counters["decay_checks_per_ev"] =
      benchmark::Counter(static_cast<double>(s.decay_checks) / std::max<uint64_t>(1, s.events_scored));
}
BENCHMARK(BM_EngineStep)->Arg(1 << 21)->Iterations(3)->Unit(benchmark::kMillisecond);

void BM_ModelLoad(benchmark::State& state) {
  const std::string text = ReadExample();
  for (auto _ : state) {
    auto r = model::LoadModelFromString(text);
    benchmark::DoNotOptimize(r.model);
  }
}
BENCHMARK(BM_ModelLoad)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace leadscore

BENCHMARK_MAIN();
