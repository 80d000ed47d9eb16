#include "stream/service.h"

#include <spdlog/spdlog.h>

#include <chrono>

#include "stream/sink.h"
#include "stream/source.h"

namespace leadscore::stream {

struct Service::Partition {
  Partition(std::shared_ptr<const model::Model> model, const engine::EngineOptions& options)
      : engine(model, options), decoder(*model, engine.lead_ids(), engine.account_ids()) {}
  engine::Engine engine;
  codec::Decoder decoder;
};

Result<std::unique_ptr<Service>> Service::Start(std::shared_ptr<const model::Model> model, ServiceOptions options,
                                                Clock clock) {
  std::unique_ptr<Service> s(new Service());
  s->model_ = std::move(model);
  s->options_ = std::move(options);
  s->clock_ = std::move(clock);
  if (!s->options_.store.dir.empty()) {
    auto store = store::StateStore::Open(s->options_.store);
    if (!store.ok()) return store.status();
    s->store_ = std::move(*store);
  }
  SourceOptions so;
  Service* self = s.get();
  so.on_assign = [self](int32_t p) { return self->Assign(p); };
  so.on_revoke = [self](int32_t p) {
    std::lock_guard lock(self->mu_);
    self->partitions_.erase(p);
  };
  so.brokers = s->options_.brokers;
  so.group_id = s->options_.group_id;
  so.kafka = s->options_.kafka;
  for (const auto& [k, v] : s->options_.kafka_consumer) so.kafka[k] = v;
  so.max_batch = s->options_.max_batch;
  so.max_wait_ms = s->options_.max_wait_ms;
  for (const auto& in : s->options_.inputs) {
    so.topics.push_back(in.name);
    s->format_of_[in.name] = in.format;
  }
  auto source = KafkaSource::Open(so);
  if (!source.ok()) return source.status();
  s->source_ = std::move(*source);
  auto producer_props = s->options_.kafka;
  for (const auto& [k, v] : s->options_.kafka_producer) producer_props[k] = v;
  auto sink = KafkaSink::Open({s->options_.brokers, producer_props});
  if (!sink.ok()) return sink.status();
  s->sink_ = std::move(*sink);
  return s;
}

Service::~Service() {
  if (source_) source_->Close();
}

// A partition joins: its engine is rebuilt from the store, and the consumer resumes
// from the offsets stored with that state.
std::optional<std::map<std::string, int64_t>> Service::Assign(int32_t p) {
  std::lock_guard lock(mu_);
  auto part = std::make_unique<Partition>(model_, options_.engine);
  if (!store_) {
    partitions_[p] = std::move(part);
    return std::nullopt;
  }
  auto state = store_->Load(p);
  if (!state.ok()) {
    fatal_ = state.status();
    return std::map<std::string, int64_t>{};
  }
  if (!state->model_version.empty() && state->model_version != model_->version) {
    fatal_ = Status::InvalidArgument("partition " + std::to_string(p) + " state was built by model " +
                                     state->model_version + ", this model is " + model_->version +
                                     ": run with that model, or start from an empty state_dir");
    return std::map<std::string, int64_t>{};
  }
  for (const auto* list : {&state->accounts, &state->leads}) {  // accounts before their leads
    for (const auto& e : *list) {
      Status st = part->engine.Restore(e.kind, e.id, e.bytes);
      if (!st.ok()) {
        fatal_ = st;
        return std::map<std::string, int64_t>{};
      }
    }
  }
  part->engine.Restored(state->stream_time_ms);
  spdlog::info("partition {} restored: {} accounts, {} leads, resuming at stored offsets", p, state->accounts.size(),
               state->leads.size());
  partitions_[p] = std::move(part);
  return std::move(state->offsets);
}

Status Service::CommitState(const std::map<std::pair<std::string, int32_t>, int64_t>& next_offsets) {
  if (!store_) return Status::Ok();
  std::vector<store::PartitionCommit> commits;
  for (auto& [p, part] : partitions_) {
    store::PartitionCommit c;
    c.partition = p;
    part->engine.TakeChanges(&c.changes);
    for (const auto& [tp, offset] : next_offsets) {
      if (tp.second == p) c.offsets[tp.first] = offset;
    }
    if (c.changes.empty() && c.offsets.empty()) continue;
    c.stream_time_ms = part->engine.stream_time();
    c.model_version = model_->version;
    commits.push_back(std::move(c));
  }
  return store_->Commit(commits);
}

Status Service::DeadLetter(const SourceRecord& r, const Status& why) {
  const std::string reason = codec::ReasonCode(why);
  ++counters_.dead_letters;
  ++dlq_by_reason_[reason];
  spdlog::warn("dead letter: topic={} partition={} offset={} reason={}", r.topic, r.partition, r.offset, reason);
  return sink_->Produce(options_.dlq_topic, r.key, r.value,
                        {{"error", why.message()},
                         {"source.topic", r.topic},
                         {"source.partition", std::to_string(r.partition)},
                         {"source.offset", std::to_string(r.offset)}});
}

std::map<std::string, uint64_t> Service::DeadLettersByReason() const {
  std::lock_guard lock(mu_);
  return dlq_by_reason_;
}

Status Service::RunOnce() {
  std::vector<SourceRecord> records;
  Status polled = source_->Poll(&records);
  if (!fatal_.ok()) return fatal_;
  if (!polled.ok()) spdlog::warn("consume: {}", polled.message());

  // The wall clock moves stream time on before the batch is applied: intent decays
  // while nothing arrives, and profile updates take effect now.
  const auto started = std::chrono::steady_clock::now();
  std::unique_lock lock(mu_);
  const int64_t now = clock_();
  std::vector<engine::RoutingEvent> events;
  for (auto& [p, part] : partitions_) part->engine.Advance(now, &events);
  std::map<std::pair<std::string, int32_t>, int64_t> next_offsets;
  for (const SourceRecord& r : records) {
    ++counters_.consumed;
    ++consumed_by_topic_[r.topic];
    next_offsets[{r.topic, r.partition}] = r.offset + 1;
    positions_[{r.topic, r.partition}] = r.offset + 1;
    if (!partitions_.count(r.partition)) {  // a record of a partition the rebalance has not told us about yet
      spdlog::warn("record of unannounced partition {}: restoring its state now", r.partition);
      Assign(r.partition);
      if (!fatal_.ok()) return fatal_;
      partitions_.at(r.partition)->engine.Advance(now, &events);
    }
    Partition* part = partitions_.at(r.partition).get();
    part->decoder.options().max_event_time_ms = now + options_.max_future_skew_ms;
    auto input = r.has_key ? part->decoder.Decode(r.value, format_of_[r.topic], std::string_view(r.key))
                           : Result<engine::Input>(Status::InvalidArgument(
                                 "Kafka key missing: records are keyed by account_id"));
    if (!input.ok()) {
      LEADSCORE_RETURN_IF_ERROR(DeadLetter(r, input.status()));
      continue;
    }
    part->engine.Apply(*input, &events);
    ++counters_.processed;
  }

  for (const auto& ev : events) {
    const std::string value =
        options_.output_format == codec::Format::kJson ? codec::ToJson(ev) : codec::ToBinary(ev);
    LEADSCORE_RETURN_IF_ERROR(sink_->Produce(options_.output_topic, ev.account_id, value));
    ++counters_.routed;
    ++routed_by_[{ev.entity == engine::EntityKind::kLead ? "lead" : "account",
                  ev.direction == engine::Direction::kUp ? "up" : "down", ev.to_tier}];
  }
  lock.unlock();
  if (records.empty() && events.empty()) {
    sink_->Poll();
    return Status::Ok();
  }
  const auto processed = std::chrono::steady_clock::now();
  // Outputs first, then state with offsets in one write: a crash in between re-reads
  // the batch and re-emits its routing events with the same routing_ids.
  LEADSCORE_RETURN_IF_ERROR(sink_->Flush(options_.flush_timeout_ms));
  {
    std::lock_guard relock(mu_);
    LEADSCORE_RETURN_IF_ERROR(CommitState(next_offsets));
  }
  const auto committed_at = std::chrono::steady_clock::now();
  batch_seconds_.Observe(std::chrono::duration<double>(processed - started).count());
  commit_seconds_.Observe(std::chrono::duration<double>(committed_at - processed).count());
  batch_records_.Observe(static_cast<double>(records.size()));
  // The group's offsets are for tools and lag dashboards; resuming uses the store's.
  Status committed = source_->Commit(next_offsets);
  if (!committed.ok()) spdlog::warn("group offsets: {}", committed.message());
  ++counters_.batches;
  return Status::Ok();
}

Status Service::Run(const std::atomic<bool>& stop) {
  while (!stop.load()) {
    Status s = RunOnce();
    if (!s.ok()) {
      failed_ = true;
      spdlog::error("batch failed: {}", s.message());
      return s;
    }
  }
  spdlog::info("stopping: batch finished and committed");
  source_->Close();
  return Status::Ok();
}

std::optional<engine::EntityView> Service::ViewLead(const std::string& id) const {
  std::lock_guard lock(mu_);
  for (const auto& [p, part] : partitions_) {
    if (auto v = part->engine.ViewLead(id)) return v;
  }
  return std::nullopt;
}

std::optional<engine::EntityView> Service::ViewAccount(const std::string& id) const {
  std::lock_guard lock(mu_);
  for (const auto& [p, part] : partitions_) {
    if (auto v = part->engine.ViewAccount(id)) return v;
  }
  return std::nullopt;
}

bool Service::ReadyLocked() const { return !partitions_.empty() && fatal_.ok() && !failed_; }

bool Service::Ready() const {
  std::lock_guard lock(mu_);
  return ReadyLocked();
}

bool Service::Healthy() const { return !failed_; }

std::string Service::MetricsText() const {
  using server::Labels;
  std::lock_guard lock(mu_);
  server::Exposition e;
  std::vector<std::pair<Labels, double>> v;
  for (const auto& [topic, n] : consumed_by_topic_) v.push_back({{{"topic", topic}}, static_cast<double>(n)});
  e.Counter("leadscore_records_consumed_total", "Records read from the input topics.", v);
  e.Counter("leadscore_records_processed_total", "Records decoded and applied to the state.",
            {{{}, static_cast<double>(counters_.processed.load())}});
  engine::EngineStats sum;
  for (const auto& [p, part] : partitions_) {
    const auto& s = part->engine.stats();
    sum.skipped_unknown_signal += s.skipped_unknown_signal;
    sum.skipped_duplicate += s.skipped_duplicate;
    sum.skipped_too_late += s.skipped_too_late;
    sum.decay_checks += s.decay_checks;
  }
  e.Counter("leadscore_records_skipped_total", "Valid records not scored, by reason (since the partition was assigned).",
            {{{{"reason", "unknown_signal"}}, static_cast<double>(sum.skipped_unknown_signal)},
             {{{"reason", "duplicate"}}, static_cast<double>(sum.skipped_duplicate)},
             {{{"reason", "too_late"}}, static_cast<double>(sum.skipped_too_late)}});
  v.clear();
  for (const auto& [reason, n] : dlq_by_reason_) v.push_back({{{"reason", reason}}, static_cast<double>(n)});
  e.Counter("leadscore_dead_letters_total", "Records sent to the dead-letter topic, by reason.", v);
  v.clear();
  for (const auto& [k, n] : routed_by_) {
    v.push_back({{{"entity", std::get<0>(k)}, {"direction", std::get<1>(k)}, {"tier", std::get<2>(k)}},
                 static_cast<double>(n)});
  }
  e.Counter("leadscore_routing_events_total", "Routing events published, by entity, direction and tier.", v);
  e.Counter("leadscore_decay_checks_total", "Decay timer firings (since the partition was assigned).",
            {{{}, static_cast<double>(sum.decay_checks)}});
  e.HistogramOf("leadscore_batch_seconds", "Time to decode and score one batch.", batch_seconds_.Read());
  e.HistogramOf("leadscore_commit_seconds", "Time to deliver a batch's outputs and commit its state.",
                commit_seconds_.Read());
  e.HistogramOf("leadscore_batch_records", "Records per processing batch.", batch_records_.Read());
  v.clear();
  for (const auto& [tp, next] : positions_) {
    const int64_t high = source_->HighWatermark(tp.first, tp.second);
    if (high >= 0) {
      v.push_back({{{"topic", tp.first}, {"partition", std::to_string(tp.second)}},
                   static_cast<double>(std::max<int64_t>(0, high - next))});
    }
  }
  e.Gauge("leadscore_consumer_lag", "Records behind the partition's high watermark.", v);
  e.Gauge("leadscore_assigned_partitions", "Input partitions owned by this instance.",
          {{{}, static_cast<double>(partitions_.size())}});
  v.clear();
  for (const auto& [p, part] : partitions_) {
    v.push_back({{{"partition", std::to_string(p)}}, static_cast<double>(part->engine.stream_time()) / 1000.0});
  }
  e.Gauge("leadscore_stream_time_seconds", "Stream time per partition (Unix seconds).", v);
  if (store_) {
    e.Gauge("leadscore_state_bytes", "RocksDB size: SST files and memtables.",
            {{{}, static_cast<double>(store_->ApproximateBytes())}});
    e.Gauge("leadscore_state_cache_hit_ratio", "RocksDB block cache hit ratio since start.",
            {{{}, store_->CacheHitRatio()}});
  }
  e.Gauge("leadscore_ready", "1 when partitions are assigned and their state restored.",
          {{{}, ReadyLocked() ? 1.0 : 0.0}});
  return e.Text();
}

}  // namespace leadscore::stream
