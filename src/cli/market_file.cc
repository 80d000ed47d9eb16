#include "cli/market_file.h"

#include <ostream>

#include "sim/market.h"

namespace leadscore::cli {

Result<uint64_t> WriteMarketJsonl(const MarketFileOptions& o, std::ostream& out) {
  constexpr int64_t kHour = 3600 * 1000, kDay = 24 * kHour, kStep = 6 * kHour;
  sim::Market market({.accounts = o.accounts,
                      .seed = o.seed,
                      .buying_share = o.buying_share,
                      .format = codec::Format::kJson,
                      .outcomes = true});
  const int64_t end = o.start_ms + o.weeks * 7 * kDay;
  market.PlaceBuyers(o.start_ms + 3 * kDay, (o.weeks * 7 - 24) * kDay);  // as the demo places them
  uint64_t written = 0;
  auto write = [&](const std::vector<sim::MarketRecord>& records) {
    for (const auto& r : records) out << r.value << '\n';
    written += records.size();
  };
  write(market.Profiles(o.start_ms));
  for (int64_t t = o.start_ms; t < end; t += kStep) {
    write(market.Events(t, t + kStep));
    write(market.DueOutcomes(t + kStep));
  }
  // Deals opened near the end close weeks later.
  write(market.DueOutcomes(end + o.outcome_weeks * 7 * kDay));
  out.flush();
  if (!out) return Status::IoError("cannot write the market");
  return written;
}

}  // namespace leadscore::cli
