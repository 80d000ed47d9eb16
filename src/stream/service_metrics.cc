#include "stream/service_metrics.h"

#include <algorithm>

namespace leadscore::stream {

ServiceMetrics::ServiceMetrics() {
  // Every reason has a series from the start: rate() and alerts see the first one.
  for (codec::Refusal r : codec::kAllRefusals) dead_letters_[r] = 0;
  for (engine::ApplyOutcome s : kSkips) skipped_[s] = 0;
}

void ServiceMetrics::SetFilters(const std::vector<model::Filter>& filters) {
  std::lock_guard lock(mu_);
  filtered_.clear();
  for (const auto& f : filters) filtered_.emplace_back("filter:" + f.name, 0);
}

void ServiceMetrics::Consumed(const std::map<std::pair<std::string, int32_t>, int64_t>& next_offsets,
                              const std::map<std::string, uint64_t>& per_topic, uint64_t records) {
  std::lock_guard lock(mu_);
  for (const auto& [tp, next] : next_offsets) positions_[tp] = next;
  for (const auto& [topic, n] : per_topic) consumed_by_topic_[topic] += n;
  counters_.consumed += records;
}

void ServiceMetrics::Resumed(const std::string& topic, int32_t partition, int64_t next_offset) {
  std::lock_guard lock(mu_);
  positions_[{topic, partition}] = next_offset;
}

void ServiceMetrics::Revoked(int32_t partition) {
  std::lock_guard lock(mu_);
  std::erase_if(positions_, [&](const auto& kv) { return kv.first.second == partition; });
}

void ServiceMetrics::DeadLetter(codec::Refusal reason) {
  std::lock_guard lock(mu_);
  ++dead_letters_[reason];
  ++counters_.dead_letters;
}

void ServiceMetrics::Outcome(const BatchOutcome& outcome) {
  std::lock_guard lock(mu_);
  counters_.processed += outcome.count(engine::ApplyOutcome::kApplied) + outcome.released;
  for (engine::ApplyOutcome s : kSkips) {
    const uint64_t n = outcome.count(s);
    skipped_[s] += n;
    counters_.skipped += n;
  }
  for (size_t i = 0; i < outcome.filtered.size() && i < filtered_.size(); ++i) {
    filtered_[i].second += outcome.filtered[i];
    counters_.skipped += outcome.filtered[i];
  }
  for (const auto& ev : outcome.events) {
    ++routed_[{ev.entity == engine::EntityKind::kLead ? "lead" : "account",
               ev.direction == engine::Direction::kUp ? "up" : "down", ev.to_tier}];
  }
  counters_.routed += outcome.events.size();
}

void ServiceMetrics::Batch(double process_seconds, double commit_seconds, size_t records) {
  batch_seconds_.Observe(process_seconds);
  commit_seconds_.Observe(commit_seconds);
  batch_records_.Observe(static_cast<double>(records));
  ++counters_.batches;
}

std::map<std::string, uint64_t> ServiceMetrics::DeadLettersByReason() const {
  std::lock_guard lock(mu_);
  std::map<std::string, uint64_t> out;
  for (const auto& [r, n] : dead_letters_) {
    if (n) out[std::string(codec::RefusalName(r))] = n;
  }
  return out;
}

std::map<std::string, uint64_t> ServiceMetrics::SkippedByReason() const {
  std::lock_guard lock(mu_);
  std::map<std::string, uint64_t> out;
  for (const auto& [skip, n] : skipped_) {
    if (n) out[std::string(engine::OutcomeName(skip))] = n;
  }
  for (const auto& [label, n] : filtered_) {
    if (n) out[label] += n;
  }
  return out;
}

int64_t ServiceMetrics::Position(const std::string& topic, int32_t partition) const {
  std::lock_guard lock(mu_);
  auto it = positions_.find({topic, partition});
  return it == positions_.end() ? -1 : it->second;
}

int64_t ServiceMetrics::Lag(int64_t next_offset, int64_t low, int64_t high) {
  if (high < 0) return 0;
  const int64_t from = next_offset >= 0 ? next_offset : std::max<int64_t>(low, 0);
  return std::max<int64_t>(0, high - from);
}

std::string ServiceMetrics::Text(const Sources& s) const {
  using metrics::Labels;
  metrics::Exposition e;
  std::vector<std::pair<Labels, double>> v;
  std::map<std::pair<std::string, int32_t>, int64_t> positions;
  {
    std::lock_guard lock(mu_);
    for (const auto& [topic, n] : consumed_by_topic_) v.push_back({{{"topic", topic}}, static_cast<double>(n)});
    e.Counter("leadscore_records_consumed_total", "Records read from the input topics.", v);
    e.Counter("leadscore_records_processed_total", "Records decoded and applied to the state.",
              {{{}, static_cast<double>(counters_.processed.load())}});
    v.clear();
    for (const auto& [skip, n] : skipped_) v.push_back({{{"reason", std::string(engine::OutcomeName(skip))}}, static_cast<double>(n)});
    for (const auto& [label, n] : filtered_) v.push_back({{{"reason", label}}, static_cast<double>(n)});
    e.Counter("leadscore_records_skipped_total", "Valid records not scored, by reason.", v);
    v.clear();
    for (const auto& [r, n] : dead_letters_) {
      v.push_back({{{"reason", std::string(codec::RefusalName(r))}}, static_cast<double>(n)});
    }
    e.Counter("leadscore_dead_letters_total", "Records sent to the dead-letter topic, by reason.", v);
    v.clear();
    for (const auto& [k, n] : routed_) {
      v.push_back({{{"entity", std::get<0>(k)}, {"direction", std::get<1>(k)}, {"tier", std::get<2>(k)}},
                   static_cast<double>(n)});
    }
    e.Counter("leadscore_routing_events_total", "Routing events published, by entity, direction and tier.", v);
    positions = positions_;
  }
  uint64_t decay_checks = 0;
  size_t loaded_leads = 0, loaded_accounts = 0, outbox = 0;
  for (const auto& t : s.tasks) {
    decay_checks += t->decay_checks();
    loaded_leads += t->loaded_leads();
    loaded_accounts += t->loaded_accounts();
    outbox += t->outbox().size();
  }
  e.Counter("leadscore_decay_checks_total", "Decay timer firings (since the partition was assigned).",
            {{{}, static_cast<double>(decay_checks)}});
  e.Gauge("leadscore_loaded_entities", "Entities held in memory (the hot set in front of RocksDB).",
          {{{{"entity", "lead"}}, static_cast<double>(loaded_leads)},
           {{{"entity", "account"}}, static_cast<double>(loaded_accounts)}});
  e.Gauge("leadscore_outbox_records", "Routing events committed and not yet confirmed delivered.",
          {{{}, static_cast<double>(outbox)}});
  e.HistogramOf("leadscore_batch_seconds", "Time to decode and score one batch.", batch_seconds_.Read());
  e.HistogramOf("leadscore_commit_seconds", "Time to deliver a batch's outputs and commit its state.",
                commit_seconds_.Read());
  e.HistogramOf("leadscore_batch_records", "Records per processing batch.", batch_records_.Read());
  v.clear();
  for (const auto& [tp, next] : positions) {
    const auto [low, high] = s.watermarks ? s.watermarks(tp.first, tp.second) : std::pair<int64_t, int64_t>{-1, -1};
    if (high < 0) continue;  // not fetched yet: unknown, not zero
    v.push_back({{{"topic", tp.first}, {"partition", std::to_string(tp.second)}},
                 static_cast<double>(Lag(next, low, high))});
  }
  e.Gauge("leadscore_consumer_lag", "Records behind the partition's high watermark.", v);
  e.Gauge("leadscore_assigned_partitions", "Input partitions owned by this instance.",
          {{{}, static_cast<double>(s.tasks.size())}});
  v.clear();
  for (const auto& t : s.tasks) {
    v.push_back({{{"partition", std::to_string(t->partition())}}, static_cast<double>(t->stream_time()) / 1000.0});
  }
  e.Gauge("leadscore_stream_time_seconds", "Stream time per partition (Unix seconds).", v);
  if (s.has_store) {
    e.Gauge("leadscore_state_bytes", "RocksDB size: SST files and memtables.", {{{}, s.state_bytes}});
    e.Gauge("leadscore_state_cache_hit_ratio", "RocksDB block cache hit ratio since start.", {{{}, s.cache_hit_ratio}});
  }
  e.Gauge("leadscore_ready", "1 when partitions are assigned and their state resumed.", {{{}, s.ready ? 1.0 : 0.0}});
  return e.Text();
}

}  // namespace leadscore::stream
