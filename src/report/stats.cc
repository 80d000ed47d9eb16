#include "report/stats.h"

#include <algorithm>
#include <cmath>

namespace leadscore::report {

Interval Wilson(uint64_t successes, uint64_t n, double z) {
  if (n == 0) return {0, 1};
  const double nn = static_cast<double>(n), p = static_cast<double>(successes) / nn, z2 = z * z;
  const double denom = 1 + z2 / nn;
  const double center = (p + z2 / (2 * nn)) / denom;
  const double half = z * std::sqrt(p * (1 - p) / nn + z2 / (4 * nn * nn)) / denom;
  return {std::max(0.0, center - half), std::min(1.0, center + half)};
}

std::optional<Ratio> KatzRatio(uint64_t x1, uint64_t n1, uint64_t x0, uint64_t n0, double z) {
  if (n1 == 0 || n0 == 0 || x1 == 0 || x0 == 0) return std::nullopt;
  const double a = static_cast<double>(x1), b = static_cast<double>(n1), c = static_cast<double>(x0),
               d = static_cast<double>(n0);
  const double rr = (a / b) / (c / d);
  const double se = std::sqrt(1 / a - 1 / b + 1 / c - 1 / d);
  return Ratio{rr, {std::exp(std::log(rr) - z * se), std::exp(std::log(rr) + z * se)}};
}

std::optional<double> Median(std::vector<double> v) {
  if (v.empty()) return std::nullopt;
  std::sort(v.begin(), v.end());
  const size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

}  // namespace leadscore::report
