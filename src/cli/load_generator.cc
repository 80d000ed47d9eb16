#include "cli/load_generator.h"

#include <algorithm>
#include <chrono>
#include <utility>

namespace leadscore::cli {

LoadClocks LoadClocks::System() {
  using namespace std::chrono;
  return {[] { return duration_cast<microseconds>(steady_clock::now().time_since_epoch()).count(); },
          [] { return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count(); }};
}

LoadGenerator::LoadGenerator(sim::Market* market, double per_second, int64_t limit, LoadClocks clocks)
    : market_(market), limit_(limit), clocks_(std::move(clocks)), pacer_(per_second, clocks_.steady_us()) {}

std::vector<sim::MarketRecord> LoadGenerator::Next() {
  int64_t n = std::min(pacer_.Due(clocks_.steady_us()), kMaxBurst);
  if (limit_ > 0) n = std::min(n, limit_ - pacer_.sent());
  if (n <= 0) return {};
  // The wall clock as read now: the events happen now, never ahead of it (the
  // market's traffic mix, without its late arrivals).
  const int64_t now = clocks_.wall_ms();
  std::vector<sim::MarketRecord> out;
  out.reserve(static_cast<size_t>(n));
  for (sim::EventSpec e : market_->Traffic(static_cast<size_t>(n), now, 0)) {
    e.at_ms = now;
    out.push_back(market_->Record(e));
  }
  pacer_.Sent(n);
  return out;
}

int64_t LoadGenerator::WaitUs() const { return pacer_.WaitUs(clocks_.steady_us()); }

}  // namespace leadscore::cli
