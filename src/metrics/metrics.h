// Prometheus text exposition (format 0.0.4), kept in one small module: counters,
// gauges and fixed-bucket histograms with labels. Checked in tests with
// `promtool check metrics`, the tool ops use.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace leadscore::metrics {

using Labels = std::vector<std::pair<std::string, std::string>>;

// A histogram with fixed bounds; Observe is lock-free.
class Histogram {
 public:
  static constexpr size_t kMaxBounds = 16;
  static const std::vector<double>& LatencyBounds();  // seconds, 0.5 ms .. 2.5 s
  explicit Histogram(std::vector<double> bounds = LatencyBounds());
  void Observe(double value);
  struct Snapshot {
    std::vector<double> bounds;
    std::vector<uint64_t> buckets;  // cumulative per bound
    double sum = 0;
    uint64_t count = 0;
  };
  Snapshot Read() const;

 private:
  std::vector<double> bounds_;
  std::array<std::atomic<uint64_t>, kMaxBounds + 1> counts_{};
  std::atomic<uint64_t> sum_micros_{0};
};

class Exposition {
 public:
  void Counter(const std::string& name, const std::string& help, const std::vector<std::pair<Labels, double>>& values);
  void Gauge(const std::string& name, const std::string& help, const std::vector<std::pair<Labels, double>>& values);
  void HistogramOf(const std::string& name, const std::string& help, const Histogram::Snapshot& h);
  const std::string& Text() const { return out_; }

 private:
  void Family(const std::string& name, const std::string& help, const char* type,
              const std::vector<std::pair<Labels, double>>& values);
  std::string out_;
};

}  // namespace leadscore::metrics
