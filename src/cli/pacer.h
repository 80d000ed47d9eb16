// Paces a producer at a fixed rate against a schedule set at its start: event k is due
// at start + k / rate. A caller that fell behind (a slow step, a stalled broker) is told
// to send everything due at once, so the rate holds on average and lateness never adds
// up the way sleeping after every record does. Time is given, never read, so tests drive
// it by hand. Internal to src/cli/. Not thread-safe.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace leadscore::cli {

class Pacer {
 public:
  // `per_second` > 0; `start_us` on the caller's monotonic clock.
  Pacer(double per_second, int64_t start_us) : per_second_(per_second), start_us_(start_us) {}

  // Events to send now to be on schedule at `now_us`: 0 when ahead of it, a burst when
  // behind.
  int64_t Due(int64_t now_us) const {
    if (now_us < start_us_) return 0;
    const double elapsed_s = static_cast<double>(now_us - start_us_) / 1e6;
    const auto scheduled = static_cast<int64_t>(std::floor(elapsed_s * per_second_)) + 1;
    return std::max<int64_t>(0, scheduled - sent_);
  }
  void Sent(int64_t n) { sent_ += n; }
  int64_t sent() const { return sent_; }

  // Microseconds from `now_us` until the next event is due; 0 when one is due already.
  int64_t WaitUs(int64_t now_us) const {
    const double next_us = static_cast<double>(start_us_) + static_cast<double>(sent_) * 1e6 / per_second_;
    return std::max<int64_t>(0, static_cast<int64_t>(std::ceil(next_us - static_cast<double>(now_us))));
  }

 private:
  double per_second_;
  int64_t start_us_;
  int64_t sent_ = 0;
};

}  // namespace leadscore::cli
