// The heart of `leadscore generate` without Kafka: which records to send now. A Pacer
// says how many are due, the market says who does what, and every event is stamped with
// the wall clock as read at that moment, so none is ever ahead of the time it is sent
// (a service dead-letters events from the future). Both clocks are injected so tests
// drive them. Internal to src/cli/. Not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "cli/pacer.h"
#include "sim/market.h"

namespace leadscore::cli {

struct LoadClocks {
  std::function<int64_t()> steady_us;  // for the schedule: monotonic, never jumps
  std::function<int64_t()> wall_ms;    // for event times: Unix ms
  static LoadClocks System();
};

class LoadGenerator {
 public:
  // `per_second` > 0; `limit` events in all, 0 for no limit. The schedule starts now.
  LoadGenerator(sim::Market* market, double per_second, int64_t limit, LoadClocks clocks);

  // The events due now, stamped now; empty when ahead of the schedule. At most
  // kMaxBurst at a time: a caller far behind calls again at once.
  std::vector<sim::MarketRecord> Next();
  // Microseconds until Next() has something again.
  int64_t WaitUs() const;
  bool done() const { return limit_ > 0 && pacer_.sent() >= limit_; }
  int64_t sent() const { return pacer_.sent(); }

  static constexpr int64_t kMaxBurst = 10000;

 private:
  sim::Market* market_;
  int64_t limit_;
  LoadClocks clocks_;
  Pacer pacer_;
};

}  // namespace leadscore::cli
