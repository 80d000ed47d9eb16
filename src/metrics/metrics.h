// Metrics in the Prometheus text format (0.0.4), on prometheus-cpp: a registry of
// counters, gauges and histograms that code updates as things happen, plus collectors
// that read values living elsewhere (RocksDB, librdkafka, /proc) when a scrape asks.
// The exposition is deterministic: families sorted by name, series by labels.
// Depends on nothing of leadscore's.
//
// Thread-safety: everything may be called from any thread. Updating a metric is an
// atomic operation (a histogram takes its own lock for one observation); a scrape takes
// each family's lock only while it copies that family, and runs the collectors on the
// scraping thread, so a scrape never waits for work that merely updates metrics.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace prometheus {
class Counter;
class Gauge;
class Histogram;
class Registry;
template <typename T>
class Family;
struct MetricFamily;
}  // namespace prometheus

namespace leadscore::metrics {

using Labels = std::map<std::string, std::string>;

// Handles into the registry: cheap to copy, valid as long as their Registry.
class Counter {
 public:
  Counter() = default;
  void Increment(double by = 1);  // negative amounts are ignored: a counter only grows
  double value() const;

 private:
  friend class Registry;
  friend class CounterFamily;
  explicit Counter(prometheus::Counter* c) : c_(c) {}
  prometheus::Counter* c_ = nullptr;
};

class Gauge {
 public:
  Gauge() = default;
  void Set(double value);
  void Increment(double by = 1);
  void Decrement(double by = 1);
  double value() const;

 private:
  friend class Registry;
  friend class GaugeFamily;
  explicit Gauge(prometheus::Gauge* g) : g_(g) {}
  prometheus::Gauge* g_ = nullptr;
};

// Buckets count observations at or below their bound (`le`), as Prometheus defines.
class Histogram {
 public:
  Histogram() = default;
  void Observe(double value);

 private:
  friend class Registry;
  explicit Histogram(prometheus::Histogram* h) : h_(h) {}
  prometheus::Histogram* h_ = nullptr;
};

// A labelled family: With() returns the series of those labels, created at 0 the first
// time. Creating every known series up front gives rate() and alerts their first
// increase (a series born at 1 hides it).
class CounterFamily {
 public:
  CounterFamily() = default;
  Counter With(const Labels& labels) const;

 private:
  friend class Registry;
  explicit CounterFamily(prometheus::Family<prometheus::Counter>* f) : f_(f) {}
  prometheus::Family<prometheus::Counter>* f_ = nullptr;
};

class GaugeFamily {
 public:
  GaugeFamily() = default;
  Gauge With(const Labels& labels) const;
  void Remove(const Labels& labels) const;  // the series goes; With() brings it back at 0

 private:
  friend class Registry;
  explicit GaugeFamily(prometheus::Family<prometheus::Gauge>* f) : f_(f) {}
  prometheus::Family<prometheus::Gauge>* f_ = nullptr;
};

// What a collector reports on a scrape: whole families with the values read just now.
// A family reported with no samples still shows its HELP and TYPE.
class Collection {
 public:
  using Samples = std::vector<std::pair<Labels, double>>;
  void Counter(const std::string& name, const std::string& help, const Samples& samples);
  void Gauge(const std::string& name, const std::string& help, const Samples& samples);
  // One unlabelled sample.
  void Counter(const std::string& name, const std::string& help, double value) { Counter(name, help, {{{}, value}}); }
  void Gauge(const std::string& name, const std::string& help, double value) { Gauge(name, help, {{{}, value}}); }

 private:
  friend class Registry;
  explicit Collection(std::vector<prometheus::MetricFamily>* out) : out_(out) {}
  std::vector<prometheus::MetricFamily>* out_;
};
// Called on the scraping thread: reads, never waits for a processing batch.
using Collector = std::function<void(Collection&)>;

class Registry {
 public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Names and help are fixed for the registry's life; a name used twice, or one that is
  // not a valid metric name, is a programming error (std::invalid_argument).
  Counter AddCounter(const std::string& name, const std::string& help);  // one series, at 0
  CounterFamily AddCounterFamily(const std::string& name, const std::string& help);
  Gauge AddGauge(const std::string& name, const std::string& help);  // one series, at 0
  GaugeFamily AddGaugeFamily(const std::string& name, const std::string& help);
  Histogram AddHistogram(const std::string& name, const std::string& help, const std::vector<double>& bounds);
  void AddCollector(Collector collector);

  // The exposition: every family of the registry and every collector's, read now.
  std::string Text() const;

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  mutable std::mutex mu_;  // collectors_
  std::vector<Collector> collectors_;
};

// Seconds, 0.5 ms .. 2.5 s: batch and commit latencies.
const std::vector<double>& LatencyBounds();

// The standard process metrics, read from /proc on every scrape: process_cpu_seconds_total,
// process_resident_memory_bytes, process_virtual_memory_bytes, process_open_fds,
// process_max_fds, process_start_time_seconds.
void AddProcessMetrics(Registry& registry, const std::string& proc = "/proc");

}  // namespace leadscore::metrics
