#include "metrics/metrics.h"

#include <cmath>
#include <cstdio>

namespace leadscore::metrics {
namespace {

std::string Escape(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string Render(const Labels& labels) {
  if (labels.empty()) return "";
  std::string out = "{";
  for (size_t i = 0; i < labels.size(); ++i) {
    out += (i ? "," : "") + labels[i].first + "=\"" + Escape(labels[i].second) + "\"";
  }
  return out + "}";
}

std::string Number(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

}  // namespace

const std::vector<double>& Histogram::LatencyBounds() {
  static const std::vector<double> kBounds = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                              0.05,   0.1,   0.25,   0.5,   1,    2.5};
  return kBounds;
}

Histogram::Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)) {
  if (bounds_.size() > kMaxBounds) bounds_.resize(kMaxBounds);
}

void Histogram::Observe(double value) {
  size_t i = 0;
  while (i < bounds_.size() && value > bounds_[i]) ++i;
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  sum_micros_.fetch_add(static_cast<uint64_t>(std::max(0.0, value) * 1e6), std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::Read() const {
  Snapshot s;
  s.bounds = bounds_;
  uint64_t running = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    running += counts_[i].load(std::memory_order_relaxed);
    if (i < bounds_.size()) s.buckets.push_back(running);
  }
  s.count = running;
  s.sum = static_cast<double>(sum_micros_.load(std::memory_order_relaxed)) / 1e6;
  return s;
}

void Exposition::Family(const std::string& name, const std::string& help, const char* type,
                        const std::vector<std::pair<Labels, double>>& values) {
  out_ += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
  for (const auto& [labels, v] : values) out_ += name + Render(labels) + " " + Number(v) + "\n";
}

void Exposition::Counter(const std::string& name, const std::string& help,
                         const std::vector<std::pair<Labels, double>>& values) {
  Family(name, help, "counter", values);
}

void Exposition::Gauge(const std::string& name, const std::string& help,
                       const std::vector<std::pair<Labels, double>>& values) {
  Family(name, help, "gauge", values);
}

void Exposition::HistogramOf(const std::string& name, const std::string& help, const Histogram::Snapshot& h) {
  out_ += "# HELP " + name + " " + help + "\n# TYPE " + name + " histogram\n";
  for (size_t i = 0; i < h.bounds.size(); ++i) {
    out_ += name + "_bucket{le=\"" + Number(h.bounds[i]) + "\"} " + std::to_string(h.buckets[i]) + "\n";
  }
  out_ += name + "_bucket{le=\"+Inf\"} " + std::to_string(h.count) + "\n";
  out_ += name + "_sum " + Number(h.sum) + "\n";
  out_ += name + "_count " + std::to_string(h.count) + "\n";
}

}  // namespace leadscore::metrics
