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
  SourceOptions so;
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
  if (!polled.ok()) spdlog::warn("consume: {}", polled.message());
  for (int32_t p : rebalance.revoked) partitions_.erase(p);
  for (int32_t p : rebalance.assigned) {
    if (!partitions_.count(p)) partitions_[p] = std::make_unique<Partition>(model_, options_.engine);
  }
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
      slot = std::make_unique<Partition>(model_, options_.engine);
      slot->engine.Advance(now, &events);
    }
    slot->decoder.options().max_event_time_ms = now + options_.max_future_skew_ms;
    auto input = r.has_key ? slot->decoder.Decode(r.value, format_of_[r.topic], std::string_view(r.key))
                           : Result<engine::Input>(Status::InvalidArgument(
                                 "Kafka key missing: records are keyed by account_id"));
    if (!input.ok()) {
      LEADSCORE_RETURN_IF_ERROR(DeadLetter(r, input.status()));
      continue;
    }
    slot->engine.Apply(*input, &events);
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
  // Outputs first, then offsets: a crash in between re-reads the batch (at least once).
  LEADSCORE_RETURN_IF_ERROR(sink_->Flush(options_.flush_timeout_ms));
  LEADSCORE_RETURN_IF_ERROR(source_->Commit(next_offsets));
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
