// Small-sample statistics for the calibration report: a proportion's 95 % interval
// (Wilson: sane at 0 and n, unlike the normal approximation), a ratio of two
// proportions' interval (Katz, on the log scale), a median. Pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace leadscore::report {

// The normal quantile of a two-sided 95 % interval.
inline constexpr double kZ95 = 1.959963984540054;

struct Interval {
  double low = 0, high = 0;
};

// Wilson score interval of `successes` in `n`; n == 0 knows nothing: [0, 1].
Interval Wilson(uint64_t successes, uint64_t n, double z = kZ95);

// (x1 / n1) / (x0 / n0) with Katz's log interval
//   exp(ln RR ± z · sqrt(1/x1 - 1/n1 + 1/x0 - 1/n0)).
// nullopt when it has no finite value: an empty group or no success in either group
// (a zero on either side makes the log infinite; no correction is invented for it).
struct Ratio {
  double value = 0;
  Interval interval;
};
std::optional<Ratio> KatzRatio(uint64_t x1, uint64_t n1, uint64_t x0, uint64_t n0, double z = kZ95);

// The median (mean of the middle two for an even count); nullopt when empty.
std::optional<double> Median(std::vector<double> values);

}  // namespace leadscore::report
