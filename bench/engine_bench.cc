// The engine step alone: decoded events in, state and routing events out, one core.
// Realistic mix: the SPEC example model, 1 M leads in 100 k accounts with committee
// roles and profiles, the six signals weighted as real traffic is (mostly clicks and
// page views), multipliers on (DACH accounts, procurement leads).
//
//   build/bench/engine_bench [--benchmark_filter=...]
#include <benchmark/benchmark.h>

#include <random>

#include "codec/codec.h"
#include "workload.h"

namespace leadscore::bench {
namespace {

const Population kPopulation{1000000, 100000};

// Profiles of every account and lead and the events, decoded up front: the benchmark
// times the engine step alone.
std::vector<engine::Input> Prepare(engine::Engine& eng, size_t events, std::mt19937_64& rng) {
  codec::Decoder dec(eng.model(), eng.lead_ids(), eng.account_ids());
  std::vector<engine::RoutingEvent> sink;
  auto decode = [&](const v1::Input& in) { return *dec.Decode(in.SerializeAsString(), codec::Format::kProtobuf); };
  for (uint32_t a = 0; a < kPopulation.accounts; ++a) eng.Apply(decode(AccountProfileRecord(a, rng)), &sink);
  for (uint32_t l = 0; l < kPopulation.leads; ++l) eng.Apply(decode(LeadProfileRecord(kPopulation, l, rng)), &sink);
  std::vector<engine::Input> out;
  out.reserve(events);
  for (const auto& e : MakeEventSpecs(kPopulation, events, 60 * kDay, rng)) out.push_back(decode(EventRecord(e)));
  return out;
}

// Scores `per_iteration` fresh events per iteration (never the same event twice, so
// dedupe does not short-cut the work).
void BM_EngineStep(benchmark::State& state) {
  std::mt19937_64 rng(7);
  engine::Engine eng(ExampleModel());
  const size_t per_iteration = static_cast<size_t>(state.range(0));
  const size_t iterations = 3;
  auto events = Prepare(eng, per_iteration * iterations, rng);
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
  const std::string text = ExampleModelText();
  for (auto _ : state) {
    auto r = model::LoadModelFromString(text);
    benchmark::DoNotOptimize(r.model);
  }
}
BENCHMARK(BM_ModelLoad)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace leadscore::bench

BENCHMARK_MAIN();
