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
  // The wall clock as read now: the events happen now, never ahead of it.
  auto out = market_->EventsAt(clocks_.wall_ms(), n);
  pacer_.Sent(n);
  return out;
}

int64_t LoadGenerator::WaitUs() const { return pacer_.WaitUs(clocks_.steady_us()); }

}  // namespace leadscore::cli
