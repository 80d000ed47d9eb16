#include "stream/service.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <iterator>
#include <unordered_set>

#include "store/hot_set.h"
#include "stream/sink.h"
#include "stream/source.h"
#include "stream/topic_tail.h"

namespace leadscore::stream {

struct Service::Partition {
  Partition(std::shared_ptr<const model::Model> model, const ServiceOptions& options)
      : engine(model, options.engine), decoder(*model, engine.lead_ids(), engine.account_ids(), options.decoder) {}
  engine::Engine engine;
  codec::Decoder decoder;
  // Routing events committed and not yet known delivered, in seq order; the first
  // `produced` of them are with the producer.
  std::vector<store::OutboxRecord> outbox;
  size_t produced = 0;
  uint64_t next_seq = 0;
  // Read back from the store: some may be on the output topic already.
  bool reconcile = false;
  std::map<int32_t, int64_t> output_offsets;
};

struct Service::Decoded {
  int32_t partition;
  engine::Input input;
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
    // Its records on their way are waited for: whoever resumes the partition checks
    // its outbox against the topic, and must find them there.
    Status s = self->Publish(true);
    if (!s.ok()) spdlog::warn("partition {} revoked with deliveries unconfirmed: {}", p, s.message());
    self->partitions_.erase(p);
  };
  so.brokers = s->options_.brokers;
  so.group_id = s->options_.group_id;
  so.kafka = s->ConsumerProperties();
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

// `kafka` with `kafka_consumer` on top: the group member and the outbox check read alike.
std::map<std::string, std::string> Service::ConsumerProperties() const {
  auto props = options_.kafka;
  for (const auto& [k, v] : options_.kafka_consumer) props[k] = v;
  return props;
}

Service::~Service() {
  if (source_) source_->Close();
}

// A partition joins: its engine resumes at the stream time stored with its state (the
// entities load on demand), the consumer resumes from the offsets stored with it, and
// an outbox left by an earlier run is checked against the output topic before more.
std::optional<std::map<std::string, int64_t>> Service::Assign(int32_t p) {
  std::lock_guard lock(mu_);
  auto part = std::make_unique<Partition>(model_, options_);
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
  part->engine.ResumeAt(state->stream_time_ms);
  part->outbox = std::move(state->outbox);
  part->next_seq = part->outbox.empty() ? 0 : part->outbox.back().seq + 1;
  part->reconcile = !part->outbox.empty();
  part->output_offsets = std::move(state->output_offsets);
  if (part->output_offsets.empty()) {
    // Everything this partition publishes from now on lands at or past today's ends.
    auto ends = sink_->HighWatermarks(options_.output_topic, 10000);
    if (ends.ok() && store_->SetOutputOffsets(p, *ends).ok()) part->output_offsets = std::move(*ends);
    else spdlog::warn("partition {}: output ends unknown ({}): a later check reads the output topic from its start", p,
                      ends.ok() ? "store" : ends.status().message());
  }
  for (const auto& in : options_.inputs) {
    auto it = state->offsets.find(in.name);
    positions_[{in.name, p}] = it == state->offsets.end() ? -1 : it->second;
  }
  spdlog::info("partition {} resumed at stored offsets: stream time {}, {} routing events in the outbox", p,
               state->stream_time_ms, part->outbox.size());
  partitions_[p] = std::move(part);
  return std::move(state->offsets);
}

// Applies one input and sorts it into processed or skipped (by the engine's reason).
void Service::Apply(Partition& part, const engine::Input& input, std::vector<engine::RoutingEvent>* events) {
  const engine::ApplyOutcome outcome = part.engine.Apply(input, events);
  if (outcome != engine::ApplyOutcome::kApplied) {
    ++skipped_by_reason_[std::string(engine::OutcomeName(outcome))];
    ++counters_.skipped;
    return;
  }
  ++counters_.processed;
}

// One write: every partition's changed entities, offsets, stream time and the routing
// events of the batch, which join the partition's outbox.
Status Service::CommitState(const std::map<std::pair<std::string, int32_t>, int64_t>& next_offsets,
                            std::map<int32_t, std::vector<engine::RoutingEvent>>& events) {
  std::vector<store::PartitionCommit> commits;
  for (auto& [p, part] : partitions_) {
    store::PartitionCommit c;
    c.partition = p;
    part->engine.TakeChanges(&c.changes);
    for (const auto& [tp, offset] : next_offsets) {
      if (tp.second == p) c.offsets[tp.first] = offset;
    }
    for (const auto& ev : events[p]) {
      store::OutboxRecord r;
      r.seq = part->next_seq++;
      r.id = ev.routing_id;
      r.key = ev.account_id;
      r.value = options_.output_format == codec::Format::kJson ? codec::ToJson(ev) : codec::ToBinary(ev);
      c.outbox.push_back(std::move(r));
    }
    c.stream_time_ms = part->engine.stream_time();
    c.model_version = model_->version;
    commits.push_back(std::move(c));
  }
  if (store_) LEADSCORE_RETURN_IF_ERROR(store_->Commit(commits));
  // Only what is committed may be published.
  for (auto& c : commits) {
    auto& outbox = partitions_.at(c.partition)->outbox;
    std::move(c.outbox.begin(), c.outbox.end(), std::back_inserter(outbox));
  }
  return Status::Ok();
}

// Drops from the outbox what an earlier run published but did not live to record: the
// output topic is read from the partition's recorded output offsets to its end.
Status Service::Reconcile(int32_t p, Partition& part) {
  auto records = ReadToEnd(options_.brokers, ConsumerProperties(), options_.output_topic, part.output_offsets, 30000);
  if (!records.ok()) return records.status();
  std::unordered_set<std::string> published;
  for (const auto& r : *records) {
    auto ev = options_.output_format == codec::Format::kJson ? codec::RoutingEventFromJson(r.value)
                                                              : codec::RoutingEventFromBinary(r.value);
    if (ev.ok()) published.insert(ev->routing_id);
  }
  store::DeliveryCommit done{p, {}, {}};
  std::vector<store::OutboxRecord> rest;
  for (auto& r : part.outbox) {
    if (published.count(r.id)) done.delivered.push_back(r.seq);
    else rest.push_back(std::move(r));
  }
  LEADSCORE_RETURN_IF_ERROR(store_->CommitDelivered({done}));
  spdlog::info("partition {}: outbox checked against {} ({} records read): {} already published, {} to publish", p,
               options_.output_topic, records->size(), done.delivered.size(), rest.size());
  part.outbox = std::move(rest);
  part.produced = 0;
  part.reconcile = false;
  return Status::Ok();
}

// Waits for every queued delivery; a broker that is away is waited for (the producer
// retries without end), unless the service is asked to stop.
Status Service::FlushSink() {
  bool warned = false;
  for (;;) {
    Status s = sink_->Flush(1000);
    if (s.ok() || !sink_->InFlight()) return s;
    if (stop_ && stop_->load()) return Status::Unavailable("stopping with deliveries outstanding");
    if (!warned) spdlog::warn("waiting for the broker to take {}: {}", options_.output_topic, s.message());
    warned = true;
  }
}

namespace {
// A delivery report's tag: which partition's outbox record it was (0 means no tag).
constexpr uint64_t kSeqMask = (uint64_t{1} << 40) - 1;
uint64_t OutboxTag(int32_t partition, uint64_t seq) {
  return (static_cast<uint64_t>(partition) + 1) << 40 | (seq & kSeqMask);
}
int32_t PartitionOfTag(uint64_t tag) { return static_cast<int32_t>((tag >> 40) - 1); }
constexpr size_t kMaxUnconfirmed = 100000;  // past this, a batch waits for deliveries first
}  // namespace

// Hands every partition's new outbox records to the producer (in order, tagged) and
// records what was delivered since: those leave the outbox, with the output offsets
// their deliveries reached. With `wait`, waits for every delivery first; without, the
// next batch runs while these are on their way (the outbox keeps them until then).
Status Service::Publish(bool wait) {
  if (failed_) return first_error_;  // what a failed batch left in memory is not committed
  size_t unconfirmed = 0;
  {
    std::lock_guard lock(mu_);
    for (auto& [p, part] : partitions_) {
      if (part->reconcile) continue;  // its outbox waits until checked against the topic
      for (; part->produced < part->outbox.size(); ++part->produced) {
        const auto& r = part->outbox[part->produced];
        LEADSCORE_RETURN_IF_ERROR(sink_->Produce(options_.output_topic, r.key, r.value, {}, OutboxTag(p, r.seq)));
      }
      unconfirmed += part->produced;
    }
  }
  if (unconfirmed == 0) return Status::Ok();
  if (wait || unconfirmed > kMaxUnconfirmed) LEADSCORE_RETURN_IF_ERROR(FlushSink());
  else sink_->Poll(0);
  std::map<int32_t, int64_t> reached;
  for (const auto& [tp, next] : sink_->TakeDelivered()) {
    if (tp.first == options_.output_topic) reached[tp.second] = next;
  }
  std::map<int32_t, std::unordered_set<uint64_t>> delivered;
  for (uint64_t tag : sink_->TakeDeliveredTags()) {
    delivered[PartitionOfTag(tag)].insert(tag & kSeqMask);
  }
  if (delivered.empty() && reached.empty()) return Status::Ok();
  std::lock_guard lock(mu_);
  std::vector<store::DeliveryCommit> commits;
  for (auto& [p, part] : partitions_) {
    // A partition whose outbox is not checked yet keeps its offsets: its check must read
    // from where its earlier run's records may be.
    if (part->reconcile) continue;
    // Every other partition's next record lands past what was delivered just now.
    store::DeliveryCommit c{p, {}, reached};
    const auto& done = delivered[p];
    std::erase_if(part->outbox, [&](const store::OutboxRecord& r) {
      if (!done.count(r.seq & kSeqMask)) return false;
      c.delivered.push_back(r.seq);
      return true;
    });
    part->produced -= c.delivered.size();  // only produced records are delivered
    for (const auto& [q, next] : reached) part->output_offsets[q] = next;
    commits.push_back(std::move(c));
  }
  return store_ ? store_->CommitDelivered(commits) : Status::Ok();
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

// A failed batch stops consumption for good: what it did not commit is read again by
// the next run, and nothing after it is read by this one.
Status Service::RunOnce() {
  if (failed_) return first_error_;
  Status s = Batch();
  if (!s.ok()) {
    first_error_ = s;
    failed_ = true;
    spdlog::error("processing stopped, consuming no more: {}", s.message());
  }
  return s;
}

Status Service::Batch() {
  {
    std::lock_guard lock(mu_);
    for (auto& [p, part] : partitions_) {
      if (!part->reconcile) continue;
      Status s = Reconcile(p, *part);
      if (!s.ok()) spdlog::warn("partition {}: outbox check waits for the broker: {}", p, s.message());
    }
  }
  LEADSCORE_RETURN_IF_ERROR(Publish(false));  // what an earlier batch or run left

  std::vector<SourceRecord> records;
  Status polled = source_->Poll(&records);
  if (!fatal_.ok()) return fatal_;
  if (!polled.ok()) spdlog::warn("consume: {}", polled.message());

  const auto started = std::chrono::steady_clock::now();
  std::unique_lock lock(mu_);
  const int64_t now = clock_();
  // Decode first: the entities the batch needs are then loaded before anything runs.
  std::vector<Decoded> inputs;
  inputs.reserve(records.size());
  std::map<std::pair<std::string, int32_t>, int64_t> next_offsets;
  bool dead_letters = false;
  for (const SourceRecord& r : records) {
    ++counters_.consumed;
    ++consumed_by_topic_[r.topic];
    next_offsets[{r.topic, r.partition}] = r.offset + 1;
    positions_[{r.topic, r.partition}] = r.offset + 1;
    if (!partitions_.count(r.partition)) {  // a record of a partition the rebalance has not told us about yet
      spdlog::warn("record of unannounced partition {}: resuming its state now", r.partition);
      Assign(r.partition);
      if (!fatal_.ok()) return fatal_;
    }
    Partition* part = partitions_.at(r.partition).get();
    part->decoder.options().max_event_time_ms = now + options_.max_future_skew_ms;
    auto input = r.has_key ? part->decoder.Decode(r.value, format_of_[r.topic], std::string_view(r.key))
                           : Result<engine::Input>(Status::InvalidArgument(
                                 "Kafka key missing: records are keyed by account_id"));
    if (!input.ok()) {
      LEADSCORE_RETURN_IF_ERROR(DeadLetter(r, input.status()));
      dead_letters = true;
      continue;
    }
    inputs.push_back({r.partition, std::move(*input)});
  }
  if (store_) {
    // Events may move stream time past the clock (up to the allowed skew): what is due
    // by then must be loaded too.
    std::map<int32_t, int64_t> horizon;
    for (const auto& [p, part] : partitions_) horizon[p] = std::max(now, part->engine.stream_time());
    for (const Decoded& d : inputs) {
      if (const auto* e = std::get_if<engine::EventInput>(&d.input)) {
        horizon[d.partition] = std::max(horizon[d.partition], e->occurred_at_ms);
      }
      LEADSCORE_RETURN_IF_ERROR(store::LoadFor(*store_, d.partition, partitions_.at(d.partition)->engine, d.input));
    }
    for (auto& [p, part] : partitions_) LEADSCORE_RETURN_IF_ERROR(store::LoadDue(*store_, p, part->engine, horizon[p]));
  }
  // The wall clock moves stream time on before the batch is applied: intent decays
  // while nothing arrives, and profile updates take effect now.
  std::map<int32_t, std::vector<engine::RoutingEvent>> events;
  for (auto& [p, part] : partitions_) part->engine.Advance(now, &events[p]);
  for (const Decoded& d : inputs) Apply(*partitions_.at(d.partition), d.input, &events[d.partition]);
  size_t routed = 0;
  for (const auto& [p, evs] : events) {
    for (const auto& ev : evs) {
      ++routed;
      ++routed_by_[{ev.entity == engine::EntityKind::kLead ? "lead" : "account",
                    ev.direction == engine::Direction::kUp ? "up" : "down", ev.to_tier}];
    }
  }
  counters_.routed += routed;
  const auto processed = std::chrono::steady_clock::now();
  if (records.empty() && routed == 0) {
    lock.unlock();
    sink_->Poll();
    return Status::Ok();
  }
  if (dead_letters) {
    // Dead letters are delivered before the offsets that pass them are committed.
    lock.unlock();
    LEADSCORE_RETURN_IF_ERROR(FlushSink());
    lock.lock();
  }
  LEADSCORE_RETURN_IF_ERROR(CommitState(next_offsets, events));
  lock.unlock();
  const auto committed_at = std::chrono::steady_clock::now();
  LEADSCORE_RETURN_IF_ERROR(Publish(false));
  if (store_) {
    lock.lock();
    const size_t entities_per_partition = options_.cache_entities / std::max<size_t>(1, partitions_.size());
    for (auto& [p, part] : partitions_) part->engine.Evict(entities_per_partition);
    lock.unlock();
  }
  batch_seconds_.Observe(std::chrono::duration<double>(processed - started).count());
  commit_seconds_.Observe(std::chrono::duration<double>(committed_at - processed).count());
  batch_records_.Observe(static_cast<double>(records.size()));
  // The group's offsets are for tools and lag dashboards; resuming uses the store's.
  Status committed = source_->Commit(next_offsets);
  if (!committed.ok()) spdlog::warn("group offsets: {}", committed.message());
  ++counters_.batches;
  return Status::Ok();
}

bool Service::CaughtUp() {
  std::lock_guard lock(mu_);
  if (partitions_.empty() || sink_->InFlight()) return false;
  for (const auto& [p, part] : partitions_) {
    if (part->reconcile || !part->outbox.empty()) return false;
    for (const auto& in : options_.inputs) {
      auto marks = source_->QueryWatermarks(in.name, p, 5000);
      if (!marks.ok()) return false;
      auto it = positions_.find({in.name, p});
      const int64_t at = it == positions_.end() || it->second < 0 ? marks->first : it->second;
      if (at < marks->second) return false;
    }
  }
  return true;
}

Status Service::Run(const std::atomic<bool>& stop, bool until_caught_up) {
  stop_ = &stop;
  while (!stop.load()) {
    const uint64_t consumed = counters_.consumed.load();
    Status s = RunOnce();
    if (!s.ok()) return s;
    if (until_caught_up && counters_.consumed.load() == consumed && CaughtUp()) {
      spdlog::info("caught up: every input read to its end, every routing event delivered");
      break;
    }
  }
  Status published = Publish(true);
  if (!published.ok()) spdlog::warn("stopping with routing events in the outbox (published on restart): {}", published.message());
  spdlog::info("stopping: batch finished and committed");
  source_->Close();
  return Status::Ok();
}

// A view of an entity not in the hot set loads it first (a cache fill: the view is
// what the state holds either way). Its partition is found by asking each one's store.
std::optional<engine::EntityView> Service::ViewLead(const std::string& id) const {
  std::lock_guard lock(mu_);
  for (int pass = 0; pass < 2; ++pass) {
    for (const auto& [p, part] : partitions_) {
      if (pass == 1 && (!store_ || !store::LoadEntity(*store_, p, part->engine, engine::EntityKind::kLead, id).ok())) continue;
      if (auto v = part->engine.ViewLead(id)) return v;
    }
  }
  return std::nullopt;
}

std::optional<engine::EntityView> Service::ViewAccount(const std::string& id) const {
  std::lock_guard lock(mu_);
  for (int pass = 0; pass < 2; ++pass) {
    for (const auto& [p, part] : partitions_) {
      if (pass == 1 && (!store_ || !store::LoadEntity(*store_, p, part->engine, engine::EntityKind::kAccount, id).ok())) continue;
      if (auto v = part->engine.ViewAccount(id)) return v;
    }
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
  uint64_t decay_checks = 0;
  size_t loaded_leads = 0, loaded_accounts = 0;
  for (const auto& [p, part] : partitions_) {
    decay_checks += part->engine.stats().decay_checks;
    loaded_leads += part->engine.loaded_leads();
    loaded_accounts += part->engine.loaded_accounts();
  }
  v.clear();
  for (const char* reason : {"unknown_signal", "duplicate", "too_late", "stale_profile"}) {
    auto it = skipped_by_reason_.find(reason);
    v.push_back({{{"reason", reason}}, static_cast<double>(it == skipped_by_reason_.end() ? 0 : it->second)});
  }
  e.Counter("leadscore_records_skipped_total", "Valid records not scored, by reason.", v);
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
            {{{}, static_cast<double>(decay_checks)}});
  e.Gauge("leadscore_loaded_entities", "Entities held in memory (the hot set in front of RocksDB).",
          {{{{"entity", "lead"}}, static_cast<double>(loaded_leads)},
           {{{"entity", "account"}}, static_cast<double>(loaded_accounts)}});
  size_t outbox = 0;
  for (const auto& [p, part] : partitions_) outbox += part->outbox.size();
  e.Gauge("leadscore_outbox_records", "Routing events committed and not yet confirmed delivered.",
          {{{}, static_cast<double>(outbox)}});
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
  e.Gauge("leadscore_ready", "1 when partitions are assigned and their state resumed.",
          {{{}, ReadyLocked() ? 1.0 : 0.0}});
  return e.Text();
}

}  // namespace leadscore::stream
