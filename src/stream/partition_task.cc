#include "stream/partition_task.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>
#include <variant>

#include "codec/handoff.h"
#include "logging/logging.h"
#include "store/hot_set.h"
#include "stream/reevaluation.h"

namespace leadscore::stream {

namespace {
// The engine claims leads new to it, and relays Forgets, only when other partitions
// may hold them.
engine::EngineOptions WithHandoff(const TaskOptions& o) {
  engine::EngineOptions e = o.engine;
  e.hand_off_leads = e.hand_off_leads || (!o.handoff_topic.empty() && o.partitions > 1);
  return e;
}
bool IsHandoff(const engine::Input& in) {
  if (const auto* f = std::get_if<engine::ForgetInput>(&in)) return f->relayed;
  return std::holds_alternative<engine::LeadReleaseInput>(in) || std::holds_alternative<engine::LeadAdoptInput>(in);
}
}  // namespace

PartitionTask::PartitionTask(int32_t partition, std::shared_ptr<const model::Model> model, TaskOptions options,
                             store::StateStore* store)
    : partition_(partition),
      model_(std::move(model)),
      options_(std::move(options)),
      store_(store),
      outbox_(partition),
      cache_entities_(options_.cache_entities),
      cache_bytes_(options_.cache_bytes),
      reevaluation_chunk_(kReevaluateChunk) {
  Rebuild(model_, 0);
  if (store_) join_.emplace(partition_, *store_);
}

void PartitionTask::Rebuild(std::shared_ptr<const model::Model> model, int64_t stream_time_ms) {
  if (engine_) decay_checks_before_ += engine_->stats().decay_checks;
  decoder_.reset();  // it refers to the engine's id tables
  auto engine = std::make_unique<engine::Engine>(model, WithHandoff(options_));
  if (stream_time_ms) engine->ResumeAt(stream_time_ms);
  decoder_ = std::make_unique<codec::Decoder>(*model, engine->lead_ids(), engine->account_ids(), options_.decoder);
  engine_ = std::move(engine);
  timer_scan_from_ = kScanAll;  // a new engine: its first scan of the timer index starts at the beginning
  std::lock_guard lock(model_mu_);
  model_ = std::move(model);
}

std::shared_ptr<const model::Model> PartitionTask::model() const {
  std::lock_guard lock(model_mu_);
  return model_;
}

Result<std::map<std::string, int64_t>> PartitionTask::Resume() {
  std::lock_guard lock(mu_);
  if (!store_) return std::map<std::string, int64_t>{};
  auto state = store_->Load(partition_);
  if (!state.ok()) return state.status();
  const std::string& stored = state->model_version;
  // The legacy version: state written by 0.1.0 under the same model file (migration,
  // see Model::legacy_version); the next commit writes it back under the new version.
  const bool legacy = !stored.empty() && stored == model_->legacy_version;
  const bool same = stored.empty() || stored == model_->version || legacy;
  if (legacy && model_->legacy_version != model_->version) {
    spdlog::info("partition {}: state of model {} (this model's version as leadscore 0.1.0 computed it) taken as {}",
                 partition_, stored, model_->version);
  }
  // Entities in an older layout are read only under the model that wrote them: they are
  // rewritten under it before any change of model.
  const bool old_format = !stored.empty() && state->state_format < engine::kStateFormat;
  if (old_format && !same) {
    return Status::InvalidArgument(fmt::format(
        "partition {} state was written in state format {} by model {}; this model is {}. Start once with the "
        "model that wrote it ({}), which rewrites the state in format {}; then change the model (SIGHUP, PUT "
        "/v1/model, or a restart with the new one)",
        partition_, state->state_format ? state->state_format : 4, stored, model_->version, stored,
        engine::kStateFormat));
  }
  engine_->ResumeAt(state->stream_time_ms);
  handoff_seq_ = state->handoff_seq;
  handoff_applied_ = state->handoff_applied;
  committed_stream_time_ = state->stream_time_ms;
  join_->Resume(state->routing_seq);
  outbox_.Resume(std::move(state->outbox), std::move(state->output_offsets));
  // A pass before any batch, when the state is not this model's (a restart with another
  // model), is in an older format, or a pass was interrupted. One interrupted on its
  // way to this model continues after its marker; one on its way to another starts
  // over (entities before the marker are that model's: they are re-evaluated too).
  resume_reevaluation_ = {};
  const bool marked = state->reevaluation.has_value();
  const bool continues = marked && state->reevaluation->to_version == model_->version;
  if (marked || old_format || !same) {
    if (marked && !continues) {
      spdlog::info("partition {}: a re-evaluation towards model {} was interrupted; starting over towards {}",
                   partition_, state->reevaluation->to_version, model_->version);
    }
    resume_reevaluation_.resumed = continues;
    Status s = Reevaluate(stored, continues ? state->reevaluation->after : "", &resume_reevaluation_);
    if (!s.ok()) return s;
  }
  PublishGauges();
  return std::move(state->offsets);
}

Status PartitionTask::ChangeModel(std::shared_ptr<const model::Model> model, ReevaluationOutcome* out) {
  std::lock_guard lock(mu_);
  if (model->version == model_->version) return Status::Ok();
  if (!store_) {
    return Status::Unavailable("partition " + std::to_string(partition_) +
                               ": no state dir, so there is no stored state to re-evaluate: restart with the model");
  }
  // What the engine holds and has not written (an idle turn's decay) goes first, under
  // the model it was computed by: the pass then finds every entity in the store.
  LEADSCORE_RETURN_IF_ERROR(CommitLocked({}, {}));
  const std::string from = model_->version;
  Rebuild(std::move(model), engine_->stream_time());
  return Reevaluate(from, "", out);
}

Status PartitionTask::Reevaluate(const std::string& from_version, const std::string& after, ReevaluationOutcome* out) {
  timer_scan_from_ = kScanAll;  // the pass loads, rewrites and evicts entities of its own
  const std::string to = model_->version;
  out->from_version = from_version;
  out->to_version = to;
  const std::string reason = ModelChangeReason(from_version, to);
  const auto started = std::chrono::steady_clock::now();
  auto last_line = started;
  logging::ScopedFields fields({{"event", std::string("model_reevaluation")},
                                {"partition", int64_t{partition_}},
                                {"from_version", from_version},
                                {"to_version", to}});
  spdlog::info("partition {}: re-evaluating every entity: {}{}", partition_, reason,
               after.empty() ? "" : " (continuing after account '" + after + "')");
  auto commit_page = [&](ReevaluatePage& page) -> Status {
    store::PartitionCommit c;
    c.partition = partition_;
    engine_->TakeChanges(&c.changes);
    c.outbox = outbox_.Stage(page.events, options_.output_format);
    if (join_) join_->Stage(page.events, &c);
    c.stream_time_ms = engine_->stream_time();
    // Still the old model's state until the last page: a crash continues the pass.
    c.model_version = from_version;
    c.reevaluation = store::Reevaluation{to, page.accounts.back()};
    LEADSCORE_RETURN_IF_ERROR(store_->Commit({c}));
    committed_stream_time_ = c.stream_time_ms;
    outbox_.Committed(std::move(c.outbox));
    engine_->Evict(0);
    out->accounts += page.accounts.size();
    out->leads += page.leads;
    reevaluated_entities_.fetch_add(page.accounts.size() + page.leads, std::memory_order_relaxed);
    for (auto& ev : page.events) out->events.push_back(std::move(ev));
    PublishGauges();
    const auto now = std::chrono::steady_clock::now();
    if (now - last_line >= std::chrono::seconds(5)) {
      last_line = now;
      spdlog::info("partition {}: re-evaluating ({}): {} accounts and {} leads so far, {} tier changes, {:.0f} s",
                   partition_, reason, out->accounts, out->leads, out->events.size(),
                   std::chrono::duration<double>(now - started).count());
    }
    if (reevaluation_hook_) return reevaluation_hook_(partition_, out->accounts);
    return Status::Ok();
  };
  LEADSCORE_RETURN_IF_ERROR(
      ReevaluateStored(*store_, partition_, *engine_, after, reevaluation_chunk_, reason, commit_page));
  // Done: the state is the new model's, in the current format; the marker goes.
  store::PartitionCommit c;
  c.partition = partition_;
  engine_->TakeChanges(&c.changes);  // nothing, unless the store had no account at all
  c.stream_time_ms = engine_->stream_time();
  c.model_version = to;
  c.state_format = engine::kStateFormat;
  c.reevaluation_done = true;
  LEADSCORE_RETURN_IF_ERROR(store_->Commit({c}));
  committed_stream_time_ = c.stream_time_ms;
  PublishGauges();
  spdlog::info("partition {}: re-evaluated under model {}: {} accounts and {} leads, {} tier changes, {:.2f} s",
               partition_, to, out->accounts, out->leads, out->events.size(),
               std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  return Status::Ok();
}

Status PartitionTask::Process(std::span<const InputRecord> records, std::optional<int64_t> now, BatchOutcome* out) {
  std::lock_guard lock(mu_);
  if (now) {
    decoder_->options().max_event_time_ms = *now + options_.max_future_skew_ms;
    engine_->BoundTimeBy(*now);  // a record from a clock ahead of ours is taken now
  }
  // Decode first: the entities the batch needs are then loaded before anything runs.
  std::vector<engine::Input> inputs;
  std::vector<size_t> record_of;  // beside inputs: its record's index
  inputs.reserve(records.size());
  int64_t horizon = std::max(now.value_or(INT64_MIN), engine_->stream_time());
  for (size_t i = 0; i < records.size(); ++i) {
    const InputRecord& r = records[i];
    if (options_.require_key && !r.key) {
      out->refused.push_back({i, codec::Refusal::kKeyMismatch, "Kafka key missing: records are keyed by account_id"});
      continue;
    }
    if (!options_.handoff_topic.empty() && r.topic == options_.handoff_topic) {
      auto handoff = codec::DecodeHandoff(r.value, engine_->lead_ids());
      if (!handoff.ok()) {
        out->refused.push_back({i, codec::Refusal::kUnparseable, handoff.status().message()});
        continue;
      }
      // Sent again after its writer crashed before it knew it was delivered: applied once.
      uint64_t& applied = handoff_applied_[handoff->source_partition];
      if (handoff->seq <= applied) {
        ++out->handoff_duplicates;
        continue;
      }
      ++out->handoffs;
      applied = handoff->seq;
      handoff_sources_moved_.insert(handoff->source_partition);
      for (engine::Input& in : handoff->inputs) {
        if (const auto* a = std::get_if<engine::LeadAdoptInput>(&in)) horizon = std::max(horizon, a->at_ms);
        if (const auto* c = std::get_if<engine::LeadReleaseInput>(&in)) horizon = std::max(horizon, c->at_ms);
        inputs.push_back(std::move(in));
        record_of.push_back(i);
      }
      continue;
    }
    auto input = decoder_->Decode(r.value, r.format, r.key);
    if (!input.ok()) {
      out->refused.push_back({i, input.status().reason<codec::Refusal>(), input.status().message()});
      continue;
    }
    // Events and profiles move stream time (no further than the clock, when there is
    // one): what is due by then must be loaded too.
    if (const auto* e = std::get_if<engine::EventInput>(&*input)) horizon = std::max(horizon, e->occurred_at_ms);
    if (const auto* p = std::get_if<engine::LeadProfileInput>(&*input)) horizon = std::max(horizon, p->updated_at_ms);
    if (const auto* p = std::get_if<engine::AccountProfileInput>(&*input)) horizon = std::max(horizon, p->updated_at_ms);
    inputs.push_back(std::move(*input));
    record_of.push_back(i);
  }
  if (store_) {
    LEADSCORE_RETURN_IF_ERROR(store::LoadFor(*store_, partition_, *engine_, inputs));
    // Past what the last batch left behind (timer_scan_from_), not from the index's first
    // key; unknown again until this batch ends.
    const int64_t from = timer_scan_from_;
    timer_scan_from_ = kScanAll;
    LEADSCORE_RETURN_IF_ERROR(store::LoadDue(*store_, partition_, *engine_, horizon, from));
  }
  // The clock moves stream time on before the batch is applied: intent decays while
  // nothing arrives, and profile updates take effect now.
  if (now) engine_->Advance(*now, &out->events);
  out->filtered.resize(model_->filters.size());
  const engine::EngineStats before = engine_->stats();
  size_t joined_to = out->events.size();  // events before it are the join's candidates
  if (join_) {
    for (size_t e = 0; e < joined_to; ++e) join_->Routed(out->events[e]);
  }
  for (size_t k = 0; k < inputs.size(); ++k) {
    const engine::Input& in = inputs[k];
    engine_->Prefetch(inputs, k);
    const engine::ApplyResult r = engine_->Apply(in, &out->events);
    if (!IsHandoff(in)) {  // a handoff is counted above, not as an input
      ++out->applied_as[static_cast<size_t>(r.outcome)];
      if (r.outcome == engine::ApplyOutcome::kFiltered) ++out->filtered[r.filter];
    }
    if (!join_) continue;
    // An outcome answers what was routed before it; its own consequences come after.
    if (std::holds_alternative<engine::OutcomeInput>(in)) {
      const InputRecord& rec = records[record_of[k]];
      LEADSCORE_RETURN_IF_ERROR(JoinOutcome(rec, out));
    }
    for (; joined_to < out->events.size(); ++joined_to) join_->Routed(out->events[joined_to]);
  }
  CountSettled(out);
  const engine::EngineStats& after = engine_->stats();
  out->leads_released += after.leads_released - before.leads_released;
  out->leads_adopted += after.leads_adopted - before.leads_adopted;
  out->handoffs_dropped += after.handoffs_dropped - before.handoffs_dropped;
  for (auto& h : engine_->TakeHandoffs()) handoffs_.push_back(std::move(h));
  // What the next scan of the timer index may skip: a store key at or before this batch's
  // stream time is a fired check's tombstone, or belongs to an entity loaded now whose
  // check has not fired (an adopted lead's held run that ended on its old partition, a
  // stream time ahead of the clock) and that the commit may evict before it fires. The
  // engine's earliest check bounds those from below.
  if (store_) timer_scan_from_ = std::min(engine_->stream_time(), engine_->NextCheckAt() - 1) + 1;
  PublishGauges();
  if (mid_batch_hook_) mid_batch_hook_(partition_, records.size());
  return Status::Ok();
}

// The outcome with its text fields (the decoder interned its ids and dropped its
// reason), joined to the routing event it answers (stream/routing_join.h).
Status PartitionTask::JoinOutcome(const InputRecord& rec, BatchOutcome* out) {
  auto wire = codec::DecodeOutcome(rec.value, rec.format);
  if (!wire.ok() || !wire->has_value()) return Status::Ok();  // cannot be: the decoder took it as an outcome
  std::string source(rec.topic);
  source += '\0';
  for (int shift = 56; shift >= 0; shift -= 8) source += static_cast<char>(static_cast<uint64_t>(rec.offset) >> shift);
  auto joined = join_->Answer(std::move(**wire), std::move(source));
  if (!joined.ok()) return joined.status();
  out->joined.push_back(std::move(*joined));
  return Status::Ok();
}

void PartitionTask::AdvanceTo(int64_t now, BatchOutcome* out) {
  std::lock_guard lock(mu_);
  engine_->Advance(now, &out->events);
  timer_scan_from_ = kScanAll;  // moved on without a scan (replay has no store): the next one starts at the beginning
  CountSettled(out);
  PublishGauges();
}

void PartitionTask::CountSettled(BatchOutcome* out) {
  const engine::Settled settled = engine_->TakeSettled();
  out->released += settled.applied;
  out->filtered.resize(model_->filters.size());
  if (settled.dropped) out->filtered[static_cast<size_t>(model_->burst_filter)] += settled.dropped;
}

uint64_t BatchOutcome::filtered_total() const {
  uint64_t n = 0;
  for (uint64_t f : filtered) n += f;
  return n;
}

void BatchOutcome::AddCounts(const BatchOutcome& other) {
  for (size_t i = 0; i < applied_as.size(); ++i) applied_as[i] += other.applied_as[i];
  if (filtered.size() < other.filtered.size()) filtered.resize(other.filtered.size());
  for (size_t i = 0; i < other.filtered.size(); ++i) filtered[i] += other.filtered[i];
  released += other.released;
  handoffs += other.handoffs;
  handoff_duplicates += other.handoff_duplicates;
  leads_released += other.leads_released;
  leads_adopted += other.leads_adopted;
  handoffs_dropped += other.handoffs_dropped;
}

Status PartitionTask::Commit(const std::map<std::string, int64_t>& next_offsets,
                             const std::vector<engine::RoutingEvent>& events) {
  std::lock_guard lock(mu_);
  return CommitLocked(next_offsets, events);
}

Status PartitionTask::CommitLocked(const std::map<std::string, int64_t>& next_offsets,
                                   const std::vector<engine::RoutingEvent>& events) {
  // Prepare: everything the batch changed, as one partition commit.
  store::PartitionCommit c;
  c.partition = partition_;
  engine_->TakeChanges(&c.changes);
  if (c.changes.empty() && events.empty() && next_offsets.empty() && handoffs_.empty()) return ScrubIfDue();
  for (const auto& ch : c.changes) scrub_pending_ |= ch.bytes.empty();
  c.offsets = next_offsets;
  // An erased lead or account publishes nothing more: its routing events of this batch
  // and those still waiting in the outbox go with it (a published one is out of reach).
  std::set<std::string> erased_leads, erased_accounts;
  for (const auto& ch : c.changes) {
    if (!ch.bytes.empty()) continue;
    (ch.kind == engine::EntityKind::kLead ? erased_leads : erased_accounts).insert(ch.id);
  }
  if (erased_leads.empty() && erased_accounts.empty()) {
    c.outbox = outbox_.Stage(events, options_.output_format);
    if (join_) join_->Stage(events, &c);
  } else {
    std::vector<engine::RoutingEvent> kept;
    for (const auto& ev : events) {
      if (!erased_accounts.count(ev.account_id) && (ev.lead_id.empty() || !erased_leads.count(ev.lead_id))) {
        kept.push_back(ev);
      }
    }
    c.outbox = outbox_.Stage(kept, options_.output_format);
    c.outbox_dropped = outbox_.DropUnproduced(erased_leads, erased_accounts, options_.output_format);
    if (join_) join_->Stage(kept, &c);
  }
  if (!handoffs_.empty()) {
    uint64_t seq = handoff_seq_;
    for (auto& r : outbox_.StageHandoffs(handoffs_, options_.partitions, &seq)) c.outbox.push_back(std::move(r));
    c.handoff_seq = seq;
  }
  for (int32_t source : handoff_sources_moved_) c.handoff_applied[source] = handoff_applied_[source];
  c.stream_time_ms = engine_->stream_time();
  c.model_version = model_->version;
  // Resume rewrote any older state before the first batch: what is written now is
  // written in the current format.
  c.state_format = engine::kStateFormat;
  // Commit: one write. Only what is committed may be published.
  if (store_) LEADSCORE_RETURN_IF_ERROR(store_->Commit({c}));
  // Post-commit.
  committed_stream_time_ = c.stream_time_ms;
  if (c.handoff_seq) handoff_seq_ = *c.handoff_seq;
  handoffs_.clear();
  handoff_sources_moved_.clear();
  outbox_.Dropped(c.outbox_dropped);
  outbox_.Committed(std::move(c.outbox));
  if (store_) {
    engine_->Evict(cache_entities_.load(std::memory_order_relaxed), cache_bytes_.load(std::memory_order_relaxed));
  }
  PublishGauges();
  return ScrubIfDue();
}

// Erasure to the last byte, rate-limited: a batch that erased rewrites the partition's
// state on disk now, or once the interval since the last rewrite has passed.
Status PartitionTask::ScrubIfDue() {
  if (!store_ || !scrub_pending_) return Status::Ok();
  const auto now = std::chrono::steady_clock::now();
  if (now - last_scrub_ < std::chrono::milliseconds(store_->erasure_scrub_interval_ms())) return Status::Ok();
  LEADSCORE_RETURN_IF_ERROR(store_->Scrub(partition_));
  scrub_pending_ = false;
  last_scrub_ = now;
  spdlog::info("partition {}: erased entities scrubbed from disk", partition_);
  return Status::Ok();
}

void PartitionTask::PublishGauges() {
  stream_time_.store(engine_->stream_time(), std::memory_order_relaxed);
  loaded_leads_.store(engine_->loaded_leads(), std::memory_order_relaxed);
  loaded_accounts_.store(engine_->loaded_accounts(), std::memory_order_relaxed);
  hot_set_bytes_.store(engine_->HotSetBytes(), std::memory_order_relaxed);
  decay_checks_.store(decay_checks_before_ + engine_->stats().decay_checks, std::memory_order_relaxed);
  next_check_at_.store(engine_->NextCheckAt(), std::memory_order_relaxed);
}

std::optional<engine::EntityView> PartitionTask::ViewLead(const std::string& id) const {
  return View(engine::EntityKind::kLead, id);
}

std::optional<engine::EntityView> PartitionTask::ViewAccount(const std::string& id) const {
  return View(engine::EntityKind::kAccount, id);
}

Result<std::optional<codec::RoutingSnapshot>> PartitionTask::ViewRouting(const std::string& routing_id) const {
  using Found = std::optional<codec::RoutingSnapshot>;
  if (!store_) return Found();
  auto bytes = store_->GetRouting(partition_, routing_id);
  if (!bytes.ok()) return bytes.status();
  if (!*bytes) return Found();
  auto snapshot = codec::DecodeSnapshot(**bytes);
  if (!snapshot.ok()) return snapshot.status();
  return Found(std::move(*snapshot));
}

// With a store the view is of the committed state, loaded into an engine of its own:
// what a batch in progress holds is not durable yet, and the view never waits for it.
std::optional<engine::EntityView> PartitionTask::View(engine::EntityKind kind, const std::string& id) const {
  const bool lead = kind == engine::EntityKind::kLead;
  if (!store_) {
    std::lock_guard lock(mu_);
    return lead ? engine_->ViewLead(id) : engine_->ViewAccount(id);
  }
  engine::Engine aside(model(), options_.engine);
  aside.ResumeAt(committed_stream_time_.load());
  Status loaded = store::LoadEntity(*store_, partition_, aside, kind, id);
  if (!loaded.ok()) {
    spdlog::warn("partition {}: view of an entity failed to load: {}", partition_, loaded.message());
    return std::nullopt;
  }
  return lead ? aside.ViewLead(id) : aside.ViewAccount(id);
}

}  // namespace leadscore::stream
