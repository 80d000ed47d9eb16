#include "stream/service.h"

#include <spdlog/spdlog.h>

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
  so.on_revoke = [self](int32_t p) { self->partitions_.erase(p); };
  so.brokers = s->options_.brokers;
  so.group_id = s->options_.group_id;
  so.kafka = s->options_.kafka;
  so.max_batch = s->options_.max_batch;
  so.max_wait_ms = s->options_.max_wait_ms;
  for (const auto& in : s->options_.inputs) {
    so.topics.push_back(in.name);
    s->format_of_[in.name] = in.format;
  }
  auto source = KafkaSource::Open(so);
  if (!source.ok()) return source.status();
  s->source_ = std::move(*source);
  auto sink = KafkaSink::Open({s->options_.brokers, s->options_.kafka});
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
  ++counters_.dead_letters;
  ++dlq_by_reason_[codec::ReasonCode(why)];
  spdlog::warn("dead letter: topic={} partition={} offset={} reason={}", r.topic, r.partition, r.offset,
               codec::ReasonCode(why));
  return sink_->Produce(options_.dlq_topic, r.key, r.value,
                        {{"error", why.message()},
                         {"source.topic", r.topic},
                         {"source.partition", std::to_string(r.partition)},
                         {"source.offset", std::to_string(r.offset)}});
}

std::map<std::string, uint64_t> Service::DeadLettersByReason() const { return dlq_by_reason_; }

Status Service::RunOnce() {
  std::vector<SourceRecord> records;
  Rebalance rebalance;
  Status polled = source_->Poll(&records, &rebalance);
  if (!fatal_.ok()) return fatal_;
  if (!polled.ok()) spdlog::warn("consume: {}", polled.message());
  counters_.assigned_partitions = partitions_.size();

  // The wall clock moves stream time on before the batch is applied: intent decays
  // while nothing arrives, and profile updates take effect now.
  const int64_t now = clock_();
  std::vector<engine::RoutingEvent> events;
  for (auto& [p, part] : partitions_) part->engine.Advance(now, &events);
  std::map<std::pair<std::string, int32_t>, int64_t> next_offsets;
  for (const SourceRecord& r : records) {
    ++counters_.consumed;
    next_offsets[{r.topic, r.partition}] = r.offset + 1;
    auto& slot = partitions_[r.partition];
    if (!slot) {  // a record of a partition the rebalance has not told us about yet
      spdlog::warn("record of unannounced partition {}: restoring its state now", r.partition);
      partitions_.erase(r.partition);
      Assign(r.partition);
      if (!fatal_.ok()) return fatal_;
      partitions_[r.partition]->engine.Advance(now, &events);
    }
    Partition* part = partitions_[r.partition].get();
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
  }
  counters_.routed += events.size();
  if (records.empty() && events.empty()) {
    sink_->Poll();
    return Status::Ok();
  }
  // Outputs first, then state with offsets in one write: a crash in between re-reads
  // the batch and re-emits its routing events with the same routing_ids.
  LEADSCORE_RETURN_IF_ERROR(sink_->Flush(options_.flush_timeout_ms));
  LEADSCORE_RETURN_IF_ERROR(CommitState(next_offsets));
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
      spdlog::error("batch failed: {}", s.message());
      return s;
    }
  }
  spdlog::info("stopping: batch finished and committed");
  source_->Close();
  return Status::Ok();
}

}  // namespace leadscore::stream
