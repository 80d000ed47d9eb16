#include "stream/service_metrics.h"

#include <algorithm>

#include "common/version.h"

namespace leadscore::stream {

const char* const ServiceMetrics::kBuildVersion = kVersion.data();  // one version: common/version.h

namespace {
const char* EntityName(engine::EntityKind kind) { return kind == engine::EntityKind::kLead ? "lead" : "account"; }
const char* DirectionName(engine::Direction d) { return d == engine::Direction::kUp ? "up" : "down"; }
}  // namespace

ServiceMetrics::ServiceMetrics(const std::string& version) {
  metrics::Registry& r = registry_;
  metrics::AddProcessMetrics(r);
  r.AddGaugeFamily("leadscore_build_info", "Always 1; the version of leadscore running.").With({{"version", version}}).Set(1);
  model_info_ = r.AddGaugeFamily("leadscore_model_info", "Always 1; the version of the scoring model running.");
  consumed_ = r.AddCounterFamily("leadscore_records_consumed_total", "Records read from the input topics.");
  processed_ = r.AddCounter("leadscore_records_processed_total", "Records decoded and applied to the state.");
  // Every reason has a series from the start: rate() and alerts see the first one.
  skipped_family_ = r.AddCounterFamily("leadscore_records_skipped_total", "Valid records not scored, by reason.");
  for (engine::ApplyOutcome s : kSkips) {
    skipped_[s] = skipped_family_.With({{"reason", std::string(engine::OutcomeName(s))}});
  }
  auto dead = r.AddCounterFamily("leadscore_dead_letters_total", "Records sent to the dead-letter topic, by reason.");
  for (codec::Refusal reason : codec::kAllRefusals) {
    dead_letters_[reason] = dead.With({{"reason", std::string(codec::RefusalName(reason))}});
  }
  decay_checks_ = r.AddCounter("leadscore_decay_checks_total", "Decay timer firings: entities re-evaluated as time passed.");
  routed_ = r.AddCounterFamily("leadscore_routing_events_total", "Routing events published, by entity, direction and tier.");
  outcomes_ = r.AddCounterFamily("leadscore_outcomes_total",
                                 "Sales outcomes applied, by entity and tier of the routing event they answered "
                                 "(tier unmatched: none) and kind.");
  auto handoffs = r.AddCounterFamily(
      "leadscore_lead_handoffs_total",
      "Leads changing partition (README: A lead that changes partition): records of the repartition topic applied "
      "or sent again (duplicate), leads released to another partition, adopted from one, or dropped (forgotten "
      "meanwhile).");
  for (const char* what : {"applied", "duplicate", "released", "adopted", "dropped"}) {
    handoffs_[what] = handoffs.With({{"what", what}});
  }
  batch_seconds_ = r.AddHistogram("leadscore_batch_seconds", "Time to decode and score one batch.", metrics::LatencyBounds());
  commit_seconds_ = r.AddHistogram("leadscore_commit_seconds",
                                   "Time to deliver the dead letters of the batches a commit merges and commit their state.",
                                   metrics::LatencyBounds());
  commit_batches_ = r.AddHistogram("leadscore_commit_batches",
                                   "Batches merged into one commit (batch.commit_interval_ms).", {1, 2, 5, 10, 20, 50, 100});
  batch_limit_ = r.AddGauge("leadscore_batch_limit_records",
                            "Records the next poll may take: batch.max_records, or fewer to keep a batch's "
                            "scoring within batch.max_process_ms.");
  batch_records_ = r.AddHistogram("leadscore_batch_records", "Records per processing batch.", {1, 10, 100, 1000, 10000, 100000});
  auto rebalances = r.AddCounterFamily("leadscore_rebalances_total",
                                       "Input partitions assigned to (assign) or revoked from (revoke) this instance.");
  for (const char* kind : {"assign", "revoke"}) rebalances_[kind] = rebalances.With({{"kind", kind}});
  restoring_ = r.AddGauge("leadscore_restoring_partitions",
                          "Assigned partitions whose state is being resumed, not yet processing.");
  resume_seconds_ = r.AddHistogram("leadscore_partition_resume_seconds",
                                   "Time from a partition's assignment to processing it: its state resumed.",
                                   {0.001, 0.01, 0.1, 0.5, 1, 5, 15, 60, 300, 1800});
  restored_records_ = r.AddCounter("leadscore_restore_records_total",
                                   "Changelog records read to restore assigned partitions' state.");
  restored_bytes_ = r.AddCounter("leadscore_restore_bytes_total",
                                 "Bytes (keys and values) of changelog records read to restore partitions' state.");
  last_commit_ = r.AddGauge("leadscore_last_commit_timestamp_seconds",
                            "Wall time (Unix seconds) of the last batch whose state was committed; 0: none yet.");
  commit_failures_ = r.AddCounter("leadscore_commit_failures_total",
                                  "Batches whose state could not be committed (the service then stops consuming).");
  reevaluated_ = r.AddCounter("leadscore_model_reevaluated_entities_total",
                              "Leads and accounts re-evaluated under a new model (a model change, a restart with "
                              "another model, or the rewrite of an older state format).");
  reevaluation_pending_ = r.AddGauge("leadscore_model_reevaluation_pending_partitions",
                                     "Assigned partitions not yet re-evaluated under the running model; 0: none.");
  r.AddCollector([this](metrics::Collection& out) { Collect(out); });
}

void ServiceMetrics::Reevaluated(uint64_t entities) { reevaluated_.Increment(static_cast<double>(entities)); }

void ServiceMetrics::ReevaluationPending(int partitions) { reevaluation_pending_.Set(partitions); }

void ServiceMetrics::InputTopics(const std::vector<std::string>& topics) {
  for (const auto& t : topics) consumed_.With({{"topic", t}});
}

namespace {
constexpr codec::WireOutcomeKind kOutcomeKinds[] = {codec::WireOutcomeKind::kAccepted, codec::WireOutcomeKind::kRejected,
                                                    codec::WireOutcomeKind::kOpportunityCreated,
                                                    codec::WireOutcomeKind::kClosedWon, codec::WireOutcomeKind::kClosedLost};
}  // namespace

void ServiceMetrics::ModelLoaded(const model::Model& model) {
  filtered_.clear();
  filter_names_.clear();
  for (const auto& f : model.filters) {
    filtered_.push_back(skipped_family_.With({{"reason", "filter:" + f.name}}));
    filter_names_.push_back(f.name);
  }
  // Any tier may be entered from above or below (a disqualified entity comes back UP to
  // the lowest one); "disqualified" itself is only ever entered going down, "suppressed"
  // going down or up from "disqualified".
  for (engine::EntityKind kind : {engine::EntityKind::kLead, engine::EntityKind::kAccount}) {
    const model::EntityPolicy& policy = kind == engine::EntityKind::kLead ? model.lead : model.account;
    for (const model::Tier& tier : policy.tiers) {
      for (engine::Direction d : {engine::Direction::kUp, engine::Direction::kDown}) {
        routed_.With({{"entity", EntityName(kind)}, {"direction", DirectionName(d)}, {"tier", tier.name}});
      }
    }
    routed_.With({{"entity", EntityName(kind)}, {"direction", "down"}, {"tier", "disqualified"}});
    // Outcomes answer routing events into any tier; every kind starts at 0 for each.
    for (const codec::WireOutcomeKind k : kOutcomeKinds) {
      const std::string kind_name(codec::OutcomeKindName(k));
      for (const model::Tier& tier : policy.tiers) {
        outcomes_.With({{"entity", EntityName(kind)}, {"tier", tier.name}, {"kind", kind_name}});
      }
      outcomes_.With({{"entity", EntityName(kind)}, {"tier", std::string(kUnmatchedTier)}, {"kind", kind_name}});
    }
    // Sales feedback: entered going down, or up from disqualified.
    for (engine::Direction d : {engine::Direction::kUp, engine::Direction::kDown}) {
      routed_.With({{"entity", EntityName(kind)}, {"direction", DirectionName(d)}, {"tier", "suppressed"}});
    }
  }
  std::lock_guard lock(mu_);
  if (model.version == model_version_) return;
  model_info_.With({{"model_version", model.version}}).Set(1);
  if (!model_version_.empty()) model_info_.Remove({{"model_version", model_version_}});
  model_version_ = model.version;
}

void ServiceMetrics::Consumed(const std::map<std::pair<std::string, int32_t>, int64_t>& next_offsets,
                              const std::map<std::string, uint64_t>& per_topic, uint64_t records) {
  for (const auto& [topic, n] : per_topic) consumed_.With({{"topic", topic}}).Increment(static_cast<double>(n));
  std::lock_guard lock(mu_);
  for (const auto& [tp, next] : next_offsets) positions_[tp] = next;
  counters_.consumed += records;
}

void ServiceMetrics::ResumeStarted() {
  rebalances_.at("assign").Increment();
  restoring_.Increment();
}

void ServiceMetrics::ResumeFinished(double seconds) {
  restoring_.Decrement();
  resume_seconds_.Observe(seconds);
}

void ServiceMetrics::Restored(uint64_t records, uint64_t bytes) {
  restored_records_.Increment(static_cast<double>(records));
  restored_bytes_.Increment(static_cast<double>(bytes));
}

void ServiceMetrics::Committed(double unix_seconds, double seconds, size_t batches) {
  last_commit_.Set(unix_seconds);
  commit_seconds_.Observe(seconds);
  commit_batches_.Observe(static_cast<double>(batches));
}

void ServiceMetrics::CommitFailed() { commit_failures_.Increment(); }

void ServiceMetrics::Resumed(const std::string& topic, int32_t partition, int64_t next_offset) {
  std::lock_guard lock(mu_);
  positions_[{topic, partition}] = next_offset;
}

void ServiceMetrics::Revoked(int32_t partition) {
  rebalances_.at("revoke").Increment();
  std::lock_guard lock(mu_);
  std::erase_if(positions_, [&](const auto& kv) { return kv.first.second == partition; });
  decay_checks_seen_.erase(partition);
}

void ServiceMetrics::DeadLetter(codec::Refusal reason) {
  dead_letters_.at(reason).Increment();
  ++counters_.dead_letters;
}

void ServiceMetrics::Outcome(const BatchOutcome& outcome) {
  const uint64_t applied = outcome.count(engine::ApplyOutcome::kApplied) + outcome.released;
  processed_.Increment(static_cast<double>(applied));
  counters_.processed += applied;
  for (size_t i = 0; i < outcome.filtered.size() && i < filtered_.size(); ++i) {
    filtered_[i].Increment(static_cast<double>(outcome.filtered[i]));
    counters_.skipped += outcome.filtered[i];
  }
  for (engine::ApplyOutcome s : kSkips) {
    const uint64_t n = outcome.count(s);
    skipped_.at(s).Increment(static_cast<double>(n));
    counters_.skipped += n;
  }
  for (const auto& ev : outcome.events) {
    routed_.With({{"entity", EntityName(ev.entity)}, {"direction", DirectionName(ev.direction)}, {"tier", ev.to_tier}})
        .Increment();
  }
  counters_.routed += outcome.events.size();
  handoffs_.at("applied").Increment(static_cast<double>(outcome.handoffs));
  handoffs_.at("duplicate").Increment(static_cast<double>(outcome.handoff_duplicates));
  handoffs_.at("released").Increment(static_cast<double>(outcome.leads_released));
  handoffs_.at("adopted").Increment(static_cast<double>(outcome.leads_adopted));
  handoffs_.at("dropped").Increment(static_cast<double>(outcome.handoffs_dropped));
  for (const JoinedOutcome& j : outcome.joined) {
    outcomes_.With({{"entity", j.entity}, {"tier", j.tier}, {"kind", std::string(codec::OutcomeKindName(j.kind))}}).Increment();
  }
}

void ServiceMetrics::DecayChecks(int32_t partition, uint64_t since_assigned) {
  std::lock_guard lock(mu_);
  uint64_t& seen = decay_checks_seen_[partition];
  if (since_assigned > seen) decay_checks_.Increment(static_cast<double>(since_assigned - seen));
  seen = since_assigned;
}

void ServiceMetrics::Batch(double process_seconds, size_t records) {
  batch_seconds_.Observe(process_seconds);
  batch_records_.Observe(static_cast<double>(records));
  ++counters_.batches;
}

std::map<std::string, uint64_t> ServiceMetrics::DeadLettersByReason() const {
  std::map<std::string, uint64_t> out;
  for (const auto& [r, c] : dead_letters_) {
    if (c.value() > 0) out[std::string(codec::RefusalName(r))] = static_cast<uint64_t>(c.value());
  }
  return out;
}

std::map<std::string, uint64_t> ServiceMetrics::SkippedByReason() const {
  std::map<std::string, uint64_t> out;
  for (const auto& [skip, c] : skipped_) {
    if (c.value() > 0) out[std::string(engine::OutcomeName(skip))] = static_cast<uint64_t>(c.value());
  }
  for (size_t i = 0; i < filtered_.size(); ++i) {
    if (filtered_[i].value() > 0) out["filter:" + filter_names_[i]] = static_cast<uint64_t>(filtered_[i].value());
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

void ServiceMetrics::SetSources(Sources sources) {
  std::lock_guard lock(mu_);
  sources_ = std::move(sources);
}

std::string ServiceMetrics::Text() const { return registry_.Text(); }

void ServiceMetrics::Collect(metrics::Collection& out) const {
  Sources s;
  std::map<std::pair<std::string, int32_t>, int64_t> positions;
  {
    std::lock_guard lock(mu_);
    s = sources_;
    positions = positions_;
  }
  const auto tasks = s.tasks ? s.tasks() : std::vector<std::shared_ptr<PartitionTask>>{};
  size_t loaded_leads = 0, loaded_accounts = 0, outbox = 0, hot_set_bytes = 0;
  metrics::Collection::Samples stream_time;
  for (const auto& t : tasks) {
    loaded_leads += t->loaded_leads();
    loaded_accounts += t->loaded_accounts();
    hot_set_bytes += t->hot_set_bytes();
    outbox += t->outbox().size();
    stream_time.push_back({{{"partition", std::to_string(t->partition())}}, static_cast<double>(t->stream_time()) / 1000.0});
  }
  out.Gauge("leadscore_loaded_entities", "Entities held in memory (the hot set in front of RocksDB).",
            {{{{"entity", "lead"}}, static_cast<double>(loaded_leads)},
             {{{"entity", "account"}}, static_cast<double>(loaded_accounts)}});
  out.Gauge("leadscore_hot_set_bytes",
            "Estimated memory of the entities held (records, their heap, their names; state.cache_mb bounds it).",
            static_cast<double>(hot_set_bytes));
  out.Gauge("leadscore_outbox_records", "Routing events committed and not yet confirmed delivered.",
            static_cast<double>(outbox));
  out.Gauge("leadscore_assigned_partitions", "Input partitions owned by this instance.", static_cast<double>(tasks.size()));
  out.Gauge("leadscore_stream_time_seconds", "Stream time per partition (Unix seconds).", stream_time);
  metrics::Collection::Samples lag;
  for (const auto& [tp, next] : positions) {
    const auto [low, high] = s.watermarks ? s.watermarks(tp.first, tp.second) : std::pair<int64_t, int64_t>{-1, -1};
    if (high < 0) continue;  // not fetched yet: unknown, not zero
    lag.push_back({{{"topic", tp.first}, {"partition", std::to_string(tp.second)}}, static_cast<double>(Lag(next, low, high))});
  }
  out.Gauge("leadscore_consumer_lag", "Records behind the partition's high watermark.", lag);
  if (s.store) {
    const store::StateStore::Stats db = s.store();
    out.Gauge("leadscore_state_bytes", "RocksDB size: SST files and memtables.", static_cast<double>(db.bytes));
    out.Counter("leadscore_rocksdb_block_cache_hits_total", "RocksDB block cache hits.",
                static_cast<double>(db.block_cache_hits));
    out.Counter("leadscore_rocksdb_block_cache_misses_total", "RocksDB block cache misses (a read from a file).",
                static_cast<double>(db.block_cache_misses));
    out.Gauge("leadscore_rocksdb_block_cache_usage_bytes", "Memory held by the RocksDB block cache.",
              static_cast<double>(db.block_cache_usage_bytes));
    out.Gauge("leadscore_rocksdb_memtable_bytes", "Memory held by RocksDB memtables (active, unflushed and pinned).",
              static_cast<double>(db.memtable_bytes));
    out.Gauge("leadscore_rocksdb_pending_compaction_bytes",
              "Bytes RocksDB estimates compaction must rewrite to bring every level within its target size.",
              static_cast<double>(db.pending_compaction_bytes));
    out.Counter("leadscore_rocksdb_keys_read_total",
                "Keys looked up in RocksDB, found or not: one at a time (read=\"alone\": views, routing "
                "lookups, a lead's other account) or together in a MultiGet (read=\"together\": a batch's "
                "entities the hot set did not hold, due checks, a model change's pages).",
                {{{{"read", "alone"}}, static_cast<double>(db.keys_read_alone)},
                 {{{"read", "together"}}, static_cast<double>(db.keys_read_together)}});
    out.Counter("leadscore_rocksdb_stall_seconds_total",
                "Time writes were delayed or stopped for RocksDB compaction to catch up.",
                static_cast<double>(db.stall_micros) / 1e6);
  }
  out.Counter("leadscore_producer_errors_total", "Records the producer failed to deliver (routing events, dead letters).",
              s.producer_errors ? static_cast<double>(s.producer_errors()) : 0);
  if (s.changelog) {
    const auto [records, bytes, pending] = s.changelog();
    out.Gauge("leadscore_changelog_pending_records",
              "Changelog records waiting for the broker's acknowledgement: a commit waits for them.",
              static_cast<double>(pending));
    out.Counter("leadscore_changelog_records_total", "Records written to the changelog topic (state changes, batch ends).",
                static_cast<double>(records));
    out.Counter("leadscore_changelog_bytes_total", "Bytes (keys and values) written to the changelog topic.",
                static_cast<double>(bytes));
  }
  if (s.standby) {
    const auto [following, applied] = s.standby();
    out.Gauge("leadscore_standby_partitions", "Partitions this instance follows as a standby (not owned here).",
              static_cast<double>(following));
    out.Counter("leadscore_standby_records_total", "Changelog records a standby applied to its local copies.",
                static_cast<double>(applied));
  }
  CollectKafka(s, out);
  out.Gauge("leadscore_ready", "1 when partitions are assigned and their state resumed.", s.ready && s.ready() ? 1 : 0);
}

// librdkafka's statistics, 0 until they first arrive (statistics.interval.ms after start).
void ServiceMetrics::CollectKafka(const Sources& s, metrics::Collection& out) {
  const KafkaStats consumer = s.consumer_stats ? s.consumer_stats() : KafkaStats{};
  const KafkaStats producer = s.producer_stats ? s.producer_stats() : KafkaStats{};
  auto per_client = [&](auto field) -> metrics::Collection::Samples {
    return {{{{"client", "consumer"}}, static_cast<double>(field(consumer))},
            {{{"client", "producer"}}, static_cast<double>(field(producer))}};
  };
  out.Counter("leadscore_kafka_consumer_errors_total",
              "Errors the Kafka consumer reported: failed fetches, brokers down, unknown topics.",
              s.consumer_errors ? static_cast<double>(s.consumer_errors()) : 0);
  out.Gauge("leadscore_kafka_producer_queue_messages",
            "Records in the producer's queues: handed to it and not yet acknowledged by the broker.",
            producer.queue_messages);
  out.Counter("leadscore_kafka_producer_retries_total", "Produce requests the producer sent again.",
              static_cast<double>(producer.retries));
  // The producer's: the consumer's round trips include fetches that wait on the broker
  // for up to fetch.wait.max.ms when there is nothing to read, which is no latency.
  out.Gauge("leadscore_kafka_broker_rtt_seconds",
            "Round-trip time of the producer's requests (produce, metadata) over the last statistics interval, "
            "averaged over brokers.",
            producer.rtt_seconds.value_or(0));
  out.Counter("leadscore_kafka_request_timeouts_total", "Requests to brokers that timed out.",
              per_client([](const KafkaStats& k) { return k.request_timeouts; }));
  out.Counter("leadscore_kafka_broker_disconnects_total", "Broker connections lost.",
              per_client([](const KafkaStats& k) { return k.disconnects; }));
}

}  // namespace leadscore::stream
