#include "metrics/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <algorithm>

namespace leadscore::metrics {
namespace {

// prometheus-cpp 1.0.1 writes HELP as given; the text format wants `\` and newlines escaped.
std::string EscapeHelp(const std::string& help) {
  std::string out;
  for (char c : help) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

prometheus::MetricFamily Family(const std::string& name, const std::string& help, prometheus::MetricType type,
                                const Collection::Samples& samples) {
  prometheus::MetricFamily f;
  f.name = name;
  f.help = EscapeHelp(help);
  f.type = type;
  for (const auto& [labels, value] : samples) {
    prometheus::ClientMetric m;
    for (const auto& [k, v] : labels) m.label.push_back({k, v});
    if (type == prometheus::MetricType::Counter) m.counter.value = value;
    else m.gauge.value = value;
    f.metric.push_back(std::move(m));
  }
  return f;
}

}  // namespace

void Counter::Increment(double by) { c_->Increment(by); }
double Counter::value() const { return c_->Value(); }

void Gauge::Set(double value) { g_->Set(value); }
void Gauge::Increment(double by) { g_->Increment(by); }
void Gauge::Decrement(double by) { g_->Decrement(by); }
double Gauge::value() const { return g_->Value(); }

void Histogram::Observe(double value) { h_->Observe(value); }

Counter CounterFamily::With(const Labels& labels) const { return Counter(&f_->Add(labels)); }

Gauge GaugeFamily::With(const Labels& labels) const { return Gauge(&f_->Add(labels)); }

void GaugeFamily::Remove(const Labels& labels) const {
  if (f_->Has(labels)) f_->Remove(&f_->Add(labels));
}

void Collection::Counter(const std::string& name, const std::string& help, const Samples& samples) {
  out_->push_back(Family(name, help, prometheus::MetricType::Counter, samples));
}

void Collection::Gauge(const std::string& name, const std::string& help, const Samples& samples) {
  out_->push_back(Family(name, help, prometheus::MetricType::Gauge, samples));
}

// Throw: a name registered twice is a programming error, not a merge.
Registry::Registry() : registry_(std::make_shared<prometheus::Registry>(prometheus::Registry::InsertBehavior::Throw)) {}
Registry::~Registry() = default;

Counter Registry::AddCounter(const std::string& name, const std::string& help) {
  return AddCounterFamily(name, help).With({});
}

CounterFamily Registry::AddCounterFamily(const std::string& name, const std::string& help) {
  return CounterFamily(&prometheus::BuildCounter().Name(name).Help(EscapeHelp(help)).Register(*registry_));
}

Gauge Registry::AddGauge(const std::string& name, const std::string& help) {
  return AddGaugeFamily(name, help).With({});
}

GaugeFamily Registry::AddGaugeFamily(const std::string& name, const std::string& help) {
  return GaugeFamily(&prometheus::BuildGauge().Name(name).Help(EscapeHelp(help)).Register(*registry_));
}

Histogram Registry::AddHistogram(const std::string& name, const std::string& help, const std::vector<double>& bounds) {
  auto& family = prometheus::BuildHistogram().Name(name).Help(EscapeHelp(help)).Register(*registry_);
  return Histogram(&family.Add({}, bounds));
}

void Registry::AddCollector(Collector collector) {
  std::lock_guard lock(mu_);
  collectors_.push_back(std::move(collector));
}

std::string Registry::Text() const {
  std::vector<prometheus::MetricFamily> families = registry_->Collect();
  std::vector<Collector> collectors;
  {
    std::lock_guard lock(mu_);
    collectors = collectors_;
  }
  Collection out(&families);
  for (const auto& c : collectors) c(out);
  // A collector's name that repeats another family's stays in twice: promtool, run on
  // the service's exposition in tests, refuses that.
  std::stable_sort(families.begin(), families.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  for (auto& f : families) {
    std::sort(f.metric.begin(), f.metric.end(), [](const auto& a, const auto& b) { return a.label < b.label; });
  }
  return prometheus::TextSerializer().Serialize(families);
}

const std::vector<double>& LatencyBounds() {
  static const std::vector<double> kBounds = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                              0.05,   0.1,   0.25,   0.5,   1,    2.5};
  return kBounds;
}

}  // namespace leadscore::metrics
