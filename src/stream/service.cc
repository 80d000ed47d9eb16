#include "stream/service.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <map>

#include "stream/changelog_topic.h"
#include "stream/reevaluation.h"
#include "stream/publisher.h"
#include "stream/standby.h"
#include "stream/state_report.h"
#include "stream/source.h"
#include "stream/task_batch.h"
#include "stream/worker_pool.h"

namespace leadscore::stream {

namespace {
double SecondsBetween(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}
// For operators' `time() - ...` only: the service's own clock may be simulated (demo).
double WallSeconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// The log throttle's clock: how often a line may come is about the reader of the log,
// not about stream time (which --fixed-clock can hold still).
int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// "; 12 more since the last such line" when some were left out.
std::string LeftOut(uint64_t n, int64_t every_ms) {
  if (n == 0) return {};
  return fmt::format("; {} more since the last such line (one line per {} s per reason)", n, every_ms / 1000.0);
}
}  // namespace

Result<std::unique_ptr<Service>> Service::Start(std::shared_ptr<const model::Model> model, ServiceOptions options,
                                                Clock clock) {
  std::unique_ptr<Service> s(new Service());
  s->model_ = std::move(model);
  s->options_ = std::move(options);
  s->clock_ = std::move(clock);
  s->model_yaml_ = s->options_.model_yaml;
  s->model_loaded_at_ms_ = static_cast<int64_t>(WallSeconds() * 1000);
  const ServiceOptions& o = s->options_;
  s->log_throttle_ = logging::Throttle(o.log_every_ms);
  s->sizer_ = BatchSizer(static_cast<double>(o.max_process_ms), o.max_batch);
  if (!o.store.dir.empty()) {
    auto store = store::StateStore::Open(o.store);
    if (!store.ok()) return store.status();
    s->store_ = std::move(*store);
  }
  if (s->store_ && o.changelog_enabled) {
    ChangelogTopicOptions co;
    co.brokers = o.brokers;
    co.topic = o.changelog();
    co.kafka = o.kafka;
    for (const auto& in : o.inputs) co.input_topics.push_back(in.name);
    auto changelog = KafkaChangelog::Open(co);
    if (!changelog.ok()) return changelog.status();
    s->changelog_ = std::move(*changelog);
    s->store_->AttachChangelog(s->changelog_.get());
    if (o.lead_handoff) LEADSCORE_RETURN_IF_ERROR(s->changelog_->EnsureRepartitionTopic(o.handoff()));
    if (o.standby_replicas > 0) {
      auto standby = Standby::Start(s->changelog_->options(), s->store_.get());
      if (!standby.ok()) return standby.status();
      s->standby_ = std::move(*standby);
      for (int32_t p = 0; p < s->changelog_->partitions(); ++p) s->standby_->Follow(p);
    }
  }
  TaskOptions task;
  task.decoder = o.decoder;
  task.engine = o.engine;
  task.max_future_skew_ms = o.max_future_skew_ms;
  task.require_key = true;
  task.output_format = o.output_format;
  if (s->changelog_ && o.lead_handoff) {
    task.handoff_topic = o.handoff();
    task.partitions = s->changelog_->partitions();
  }
  s->assignment_ = std::make_unique<Assignment>(s->model_, task, s->store_.get(), o.cache_entities, o.cache_bytes);
  auto publisher = Publisher::Open(o, s->store_.get());
  if (!publisher.ok()) return publisher.status();
  s->publisher_ = std::move(*publisher);
  s->pool_ = std::make_unique<WorkerPool>(o.threads);
  // Commits wait more than they compute (the changelog's acknowledgements, the WAL): on
  // threads of their own, the partitions' waits overlap instead of queueing behind the
  // scoring workers, and RocksDB merges their concurrent writes into one WAL write.
  s->commit_pool_ = std::make_unique<WorkerPool>(std::max(s->pool_->threads(), kCommitThreads));

  SourceOptions so;
  Service* self = s.get();
  so.on_assign = [self](int32_t p) { return self->OnAssign(p); };
  so.on_revoke = [self](int32_t p) { self->OnRevoke(p); };
  so.brokers = o.brokers;
  so.group_id = o.group_id;
  so.kafka = o.kafka;
  for (const auto& [k, v] : o.kafka_consumer) so.kafka[k] = v;
  so.max_batch = o.max_batch;
  so.max_wait_ms = o.max_wait_ms;
  for (const auto& in : o.inputs) {
    so.topics.push_back(in.name);
    s->format_of_[in.name] = in.format;
  }
  // Partition N of the repartition topic is read by partition N's task, like an input.
  if (!task.handoff_topic.empty()) so.topics.push_back(task.handoff_topic);
  auto source = KafkaSource::Open(so);
  if (!source.ok()) return source.status();
  s->source_ = std::move(*source);
  s->metrics_.SetSources(s->MetricSources());
  s->metrics_.InputTopics(so.topics);
  s->metrics_.ModelLoaded(*s->model_);
  s->metrics_model_version_ = s->model_->version;
  spdlog::info("service: {} worker thread(s)", s->pool_->threads());
  return s;
}

Service::~Service() {
  // A clean stop by a caller of RunOnce: what waits for its commit is committed (Run
  // does the same when it stops).
  if (source_ && !failed_ && !pending_.empty()) {
    Status c = CommitPending();
    if (!c.ok()) spdlog::warn("stopping: batches processed and not committed (read again on restart): {}", c.message());
  }
  if (source_) source_->Close();
}

void Service::Fail(const Status& why) {
  std::lock_guard lock(health_mu_);
  if (failed_) return;
  failure_ = why;
  failed_ = true;
  spdlog::error("processing stopped, consuming no more: {}", why.message());
}

Status Service::failure() const {
  std::lock_guard lock(health_mu_);
  return failure_;
}

std::vector<PartitionTask*> Service::TaskPointers(const std::vector<std::shared_ptr<PartitionTask>>& tasks) const {
  std::vector<PartitionTask*> out;
  out.reserve(tasks.size());
  for (const auto& t : tasks) out.push_back(t.get());
  return out;
}

// A partition joins (inside Poll, on the loop thread): its task resumes at the stream
// time stored with its state (entities load on demand), the consumer resumes from the
// offsets stored with it, and an outbox left by an earlier run waits for its check.
// Resuming is synchronous today; the metrics count the partition as restoring meanwhile
// (the place a changelog restore will take its time).
std::optional<std::map<std::string, int64_t>> Service::OnAssign(int32_t p) {
  const auto started = std::chrono::steady_clock::now();
  metrics_.ResumeStarted();
  auto resumed = Resume(p);
  metrics_.ResumeFinished(SecondsBetween(started, std::chrono::steady_clock::now()));
  return resumed;
}

std::optional<std::map<std::string, int64_t>> Service::Resume(int32_t p) {
  // A task replaced while work of it waits for its commit: that work is committed first.
  if (!failed_ && pending_.has(p)) {
    if (Status c = CommitPending(); !c.ok()) {
      Fail(c);
      return std::map<std::string, int64_t>{};
    }
  }
  if (standby_) standby_->Release(p);  // from here on the partition's state is the task's
  if (changelog_) {
    if (Status restored = Restore(p); !restored.ok()) {
      Fail(restored);
      return std::map<std::string, int64_t>{};
    }
  }
  auto offsets = assignment_->Assign(p);
  if (!offsets.ok()) {
    Fail(offsets.status());
    return std::map<std::string, int64_t>{};
  }
  if (!store_) return std::nullopt;  // memory only: the group's offsets
  auto task = assignment_->Find(p);
  ReevaluationOutcome resumed = task->resume_reevaluation();
  CountReevaluation(resumed);
  publisher_->RecordOutputEnds(*task);
  for (const auto& topic : ReadTopics()) {
    auto it = offsets->find(topic);
    metrics_.Resumed(topic, p, it == offsets->end() ? -1 : it->second);
  }
  spdlog::info("partition {} resumed at stored offsets: stream time {}, {} routing events in the outbox", p,
               task->stream_time(), task->outbox().size());
  return std::move(*offsets);
}

// Before the partition is processed here, its local state is what its changelog says:
// caught up when another instance went on with it, rebuilt on a new disk. Not ready
// meanwhile. Runs inside the rebalance callback: a restore longer than
// max.poll.interval.ms would cost the assignment (see README, scale-out).
Status Service::Restore(int32_t p) {
  restoring_.fetch_add(1);
  const auto started = std::chrono::steady_clock::now();
  auto last_line = started;
  store::RestoreProgress progress;
  progress.on_progress = [&](const store::RestoreProgress& at) {
    const auto now = std::chrono::steady_clock::now();
    if (at.records == 0) {
      spdlog::info("partition {}: restoring from {} offsets {}..{}", p, changelog_->topic(), at.from, at.to);
      return;
    }
    if (now - last_line < std::chrono::seconds(5)) return;
    last_line = now;
    spdlog::info("partition {}: restoring from {}: {} records, {:.1f} MB, {:.0f} s so far (offsets {}..{})", p,
                 changelog_->topic(), at.records, at.bytes / 1e6, SecondsBetween(started, now), at.from, at.to);
  };
  Status s = store_->Restore(p, *changelog_, &progress);
  restoring_.fetch_sub(1);
  metrics_.Restored(progress.records, progress.bytes);
  if (!s.ok()) return Status::Unavailable("partition " + std::to_string(p) + ": restore from " + changelog_->topic() +
                                          " failed: " + s.message());
  if (progress.records) {
    spdlog::info("partition {}: restored from {}: {} records, {:.1f} MB in {:.2f} s (offsets {}..{})", p,
                 changelog_->topic(), progress.records, progress.bytes / 1e6,
                 SecondsBetween(started, std::chrono::steady_clock::now()), progress.from, progress.to);
  }
  return Status::Ok();
}

// A partition leaves: its records on their way are waited for (whoever resumes the
// partition checks its outbox against the topic, and must find them there), then the
// task and everything of it go.
void Service::OnRevoke(int32_t p) {
  // What was processed and not committed goes first (merged writes): the next owner
  // resumes from the committed offsets.
  if (!failed_) {
    if (Status c = CommitPending(); !c.ok()) Fail(c);
  }
  if (!failed_) {
    Status s = publisher_->Publish(TaskPointers(assignment_->Tasks()), true);
    if (!s.ok()) spdlog::warn("partition {} revoked with deliveries unconfirmed: {}", p, s.message());
    // What the deliveries recorded goes to the changelog, so the next owner's outbox
    // does not start with them.
    if (store_ && s.ok()) {
      Status f = store_->FlushChangelog(p);
      if (!f.ok()) spdlog::warn("partition {} revoked with its delivery records not in the changelog: {}", p, f.message());
    }
  }
  assignment_->Revoke(p);
  metrics_.Revoked(p);
  if (standby_) standby_->Follow(p);
}

// A failed batch stops consumption for good: what it did not commit is read again by
// the next run, and nothing after it is read by this one.
Status Service::RunOnce() {
  if (failed_) return failure();
  Status s = Batch();
  if (!s.ok()) Fail(s);
  return s;
}


Status Service::Batch() {
  LEADSCORE_RETURN_IF_ERROR(StepModelChange());
  auto tasks = assignment_->Tasks();
  for (auto& t : tasks) {
    if (!t->outbox().needs_check()) continue;
    Status s = publisher_->Check(*t);
    if (!s.ok()) spdlog::warn("partition {}: outbox check waits for the broker: {}", t->partition(), s.message());
  }
  LEADSCORE_RETURN_IF_ERROR(publisher_->Publish(TaskPointers(tasks), false));  // what an earlier batch or run left

  std::vector<SourceRecord> records;
  const size_t limit = sizer_.Limit();
  metrics_.BatchLimit(limit);
  Status polled = source_->Poll(&records, limit, PollWaitMs());
  if (failed_) return failure();  // the rebalance callback could not resume a partition
  if (!polled.ok()) spdlog::warn("consume: {}", polled.message());

  const auto started = std::chrono::steady_clock::now();
  // No clock (run --no-clock): stream time moves with the records alone, as in replay.
  const std::optional<int64_t> now = clock_ ? std::optional<int64_t>(clock_()) : std::nullopt;
  std::vector<TaskWork> work;
  std::vector<std::vector<const SourceRecord*>> sources;  // beside each task's records: what a dead letter sends
  std::map<int32_t, size_t> slot;
  for (auto& t : assignment_->Tasks()) {
    slot[t->partition()] = work.size();
    work.push_back({.task = t});
    sources.emplace_back();
  }
  std::map<std::pair<std::string, int32_t>, int64_t> next_offsets;
  std::map<std::string, uint64_t> per_topic;
  for (const SourceRecord& r : records) {
    next_offsets[{r.topic, r.partition}] = r.offset + 1;
    ++per_topic[r.topic];
    if (!slot.count(r.partition)) {  // a record of a partition the rebalance has not told us about yet
      spdlog::warn("record of unannounced partition {}: resuming its state now", r.partition);
      OnAssign(r.partition);
      if (failed_) return failure();
      slot[r.partition] = work.size();
      work.push_back({.task = assignment_->Find(r.partition)});
      sources.emplace_back();
    }
    const size_t i = slot[r.partition];
    TaskWork& w = work[i];
    w.records.push_back({r.topic, format_of_[r.topic], r.offset,
                         r.has_key ? std::optional<std::string_view>(r.key) : std::nullopt, r.value});
    sources[i].push_back(&r);
    w.next_offsets[r.topic] = r.offset + 1;
  }
  // Handoffs between partitions are not inputs: `consumed` counts the inputs' records
  // (the per-topic series shows the repartition topic's too).
  const uint64_t handoff_records = HandsOffLeads() ? per_topic[options_.handoff()] : 0;
  metrics_.Consumed(next_offsets, per_topic, records.size() - handoff_records);

  // Every task scores its records on the pool; every task, so the clock moves them all.
  LEADSCORE_RETURN_IF_ERROR(ProcessAll(*pool_, work, now));
  for (const auto& w : work) metrics_.DecayChecks(w.task->partition(), w.task->decay_checks());
  size_t routed = 0, refused = 0;
  std::map<engine::ApplyOutcome, uint64_t> skipped;
  for (size_t i = 0; i < work.size(); ++i) {
    routed += work[i].outcome.events.size();
    for (engine::ApplyOutcome kind : kSkips) skipped[kind] += work[i].outcome.count(kind);
    for (const Refused& why : work[i].outcome.refused) {
      LEADSCORE_RETURN_IF_ERROR(publisher_->DeadLetter(*sources[i][why.record], why));
      metrics_.DeadLetter(why.reason);
      LogDeadLetter(*sources[i][why.record], why);
      ++refused;
    }
  }
  for (const auto& [kind, n] : skipped) {
    if (n) LogSkipped(kind, n);
  }
  const auto processed = std::chrono::steady_clock::now();
  if (records.empty() && routed == 0) {
    // Nothing of its own to commit (what the clock changed is committed with the next
    // batch, or done again after a restart); held runs it ended are counted now. The
    // input paused: what waits for its commit is committed now.
    for (auto& w : work) metrics_.Outcome(w.outcome);
    if (!pending_.empty()) return CommitPending();
    publisher_->Poll();
    return Status::Ok();
  }
  metrics_.Batch(SecondsBetween(started, processed), records.size());
  sizer_.Observe(records.size(), SecondsBetween(started, processed));
  // Merged writes: the batch waits in memory for the commit of the interval it opened
  // or joined.
  if (pending_.empty()) pending_since_ms_ = CommitClockMs();
  pending_.Add(work);
  pending_dead_letters_ += refused;
  for (const auto& [tp, next] : next_offsets) pending_group_offsets_[tp] = next;
  const bool caught_up = options_.commit_when_caught_up && CaughtUpWith(records.size(), limit, next_offsets);
  const bool due = records.empty() || caught_up || CommitClockMs() - pending_since_ms_ >= options_.commit_interval_ms ||
                   pending_.records() >= options_.commit_max_records || pending_.bytes() >= options_.commit_max_bytes;
  if (!due) {
    publisher_->Poll();
    return Status::Ok();
  }
  return CommitPending();
}

Status Service::CommitPending() {
  if (pending_.empty()) return Status::Ok();
  const auto started = std::chrono::steady_clock::now();
  if (pending_dead_letters_) {
    // Dead letters are delivered before the offsets that pass them are committed.
    LEADSCORE_RETURN_IF_ERROR(publisher_->Flush());
    pending_dead_letters_ = 0;
  }
  const size_t batches = pending_.batches();
  // Every task commits its own part: state + offsets + outbox in one write each, for
  // every batch since the last commit.
  if (Status c = pending_.CommitAll(*commit_pool_); !c.ok()) {
    metrics_.CommitFailed();
    return c;
  }
  metrics_.Committed(WallSeconds(), SecondsBetween(started, std::chrono::steady_clock::now()), batches);
  for (const BatchOutcome& o : pending_.TakeCommitted()) metrics_.Outcome(o);
  LEADSCORE_RETURN_IF_ERROR(publisher_->Publish(TaskPointers(assignment_->Tasks()), false));
  // The group's offsets are for tools and lag dashboards; resuming uses the store's.
  Status committed = source_->Commit(pending_group_offsets_);
  pending_group_offsets_.clear();
  if (!committed.ok()) spdlog::warn("group offsets: {}", committed.message());
  return Status::Ok();
}

bool Service::CaughtUpWith(size_t polled, size_t limit,
                           const std::map<std::pair<std::string, int32_t>, int64_t>& next_offsets) const {
  // The poll drained the consumer's queue, and what the broker last reported beyond it
  // on the partitions it read is less than one more poll would take. A queue that ran
  // dry while a fetch of a backlog was on its way is not caught up and keeps merging;
  // under a steady flow the last fetch already reported a few records more, which the
  // next poll takes: that is caught up.
  // (`limit` is the sizer's, never above batch.max_records.)
  if (polled >= limit) return false;
  int64_t behind = 0;
  for (const auto& [tp, next] : next_offsets) {
    const int64_t high = source_->CachedWatermarks(tp.first, tp.second).second;
    if (high < 0) return false;
    behind += std::max<int64_t>(0, high - next);
  }
  return behind < static_cast<int64_t>(limit);
}

int Service::PollWaitMs() const {
  int64_t wait = options_.max_wait_ms;
  if (clock_) {
    // Stream time follows the clock while nothing arrives: a check due at T is due when
    // the clock reads T. (An entity not in memory is found by the next poll's scan of the
    // timer index: up to batch.max_wait_ms late while nothing arrives.)
    // At least 1 ms: a check the last batch could not reach must not make the loop spin.
    int64_t next = INT64_MAX;
    for (const auto& t : assignment_->Tasks()) next = std::min(next, t->next_check_at());
    if (next != INT64_MAX) wait = std::min(wait, std::max<int64_t>(1, next - clock_()));
  }
  if (!pending_.empty()) {
    // A poll that finds nothing commits what is pending (Batch): no later than its interval.
    wait = std::min(wait, std::max<int64_t>(0, pending_since_ms_ + options_.commit_interval_ms - CommitClockMs()));
  }
  return static_cast<int>(wait);
}

int64_t Service::CommitClockMs() const {
  if (commit_clock_) return commit_clock_();
  return SteadyMs();
}

void Service::LogDeadLetter(const SourceRecord& r, const Refused& why) {
  const std::string reason(codec::RefusalName(why.reason));
  const auto left_out = log_throttle_.Admit("dead_letter:" + reason, SteadyMs());
  if (!left_out) return;
  logging::ScopedFields fields({{"event", std::string("dead_letter")},
                                {"reason", reason},
                                {"topic", r.topic},
                                {"partition", int64_t{r.partition}},
                                {"offset", r.offset},
                                {"dlq_topic", options_.dlq_topic},
                                {"left_out", static_cast<int64_t>(*left_out)}});
  spdlog::warn("dead letter ({}): {} partition {} offset {} sent to {}: {}{}", reason, r.topic, r.partition,
               r.offset, options_.dlq_topic, why.error, LeftOut(*left_out, options_.log_every_ms));
}

void Service::LogSkipped(engine::ApplyOutcome kind, uint64_t records) {
  // Skipping is ordinary (SPEC section 2: counted and skipped), so it is info, not a
  // warning; the metric counts every one.
  const std::string reason(engine::OutcomeName(kind));
  const auto left_out = log_throttle_.Admit("skipped:" + reason, SteadyMs(), records);
  if (!left_out) return;
  logging::ScopedFields fields({{"event", std::string("skipped")},
                                {"reason", reason},
                                {"records", static_cast<int64_t>(records)},
                                {"left_out", static_cast<int64_t>(*left_out)}});
  spdlog::info("skipped {} record(s) of a batch ({}){}", records, reason, LeftOut(*left_out, options_.log_every_ms));
}

bool Service::HandsOffLeads() const { return changelog_ && options_.lead_handoff; }

std::vector<std::string> Service::ReadTopics() const {
  std::vector<std::string> topics;
  for (const auto& in : options_.inputs) topics.push_back(in.name);
  if (HandsOffLeads()) topics.push_back(options_.handoff());  // leads in transit between partitions
  return topics;
}

bool Service::CaughtUp() {
  auto tasks = assignment_->Tasks();
  if (tasks.empty() || !pending_.empty() || publisher_->InFlight()) return false;
  for (const auto& t : tasks) {
    if (t->outbox().needs_check() || !t->outbox().empty()) return false;
    for (const auto& topic : ReadTopics()) {
      auto marks = source_->QueryWatermarks(topic, t->partition(), 5000);
      if (!marks.ok()) return false;
      const int64_t next = metrics_.Position(topic, t->partition());
      const int64_t at = next < 0 ? marks->first : next;
      if (at < marks->second) return false;
    }
  }
  return true;
}

Status Service::Run(const std::atomic<bool>& stop, bool until_caught_up) {
  publisher_->set_stop(&stop);
  while (!stop.load()) {
    const uint64_t consumed = counters().consumed.load();
    Status s = RunOnce();
    if (!s.ok()) return s;
    // Caught up means committed too: what waits for its commit is committed first.
    if (until_caught_up && counters().consumed.load() == consumed && !pending_.empty()) {
      if (Status c = CommitPending(); !c.ok()) {
        Fail(c);
        return c;
      }
    }
    if (until_caught_up && counters().consumed.load() == consumed && CaughtUp()) {
      spdlog::info("caught up: every input read to its end, every routing event delivered");
      break;
    }
  }
  // Stopping: the batches waiting for their commit are committed, then published.
  if (!failed_) {
    if (Status c = CommitPending(); !c.ok()) {
      Fail(c);
      source_->Close();
      return c;
    }
  }
  Status published = failed_ ? failure() : publisher_->Publish(TaskPointers(assignment_->Tasks()), true);
  if (!published.ok()) spdlog::warn("stopping with routing events in the outbox (published on restart): {}", published.message());
  if (published.ok() && store_) {
    for (const auto& t : assignment_->Tasks()) {
      Status f = store_->FlushChangelog(t->partition());
      if (!f.ok()) spdlog::warn("partition {}: delivery records not in the changelog: {}", t->partition(), f.message());
    }
  }
  spdlog::info("stopping: batch finished and committed");
  source_->Close();
  return Status::Ok();
}

std::shared_ptr<const model::Model> Service::model() const {
  std::lock_guard lock(model_mu_);
  return model_;
}

std::string Service::model_version() const { return model()->version; }

Status Service::ChangeModel(std::shared_ptr<const model::Model> model, std::string yaml) {
  if (!store_) {
    return Status::Unavailable("no state dir: there is no state to re-evaluate; restart with the new model instead");
  }
  std::string from;
  {
    std::lock_guard lock(model_mu_);
    from = model_->version;
    if (model->version == from) return Status::Ok();
    model_ = model;
    model_yaml_ = std::move(yaml);
    model_loaded_at_ms_ = static_cast<int64_t>(WallSeconds() * 1000);
  }
  assignment_->SetModel(model);
  model_change_pending_ = true;
  logging::ScopedFields fields({{"event", std::string("model_change")},
                                {"from_version", from},
                                {"to_version", model->version}});
  spdlog::info("model change accepted: {} -> {}; the assigned partitions are re-evaluated one at a time", from,
               model->version);
  return Status::Ok();
}

int Service::PendingModelPartitions() const {
  const std::string running = model_version();
  int n = 0;
  for (const auto& t : assignment_->Tasks()) n += t->model()->version != running;
  return n;
}

server::ModelInfo Service::RunningModel() const {
  server::ModelInfo info;
  {
    std::lock_guard lock(model_mu_);
    info.version = model_->version;
    info.yaml = model_yaml_;
    info.loaded_at_ms = model_loaded_at_ms_;
  }
  info.pending_partitions = PendingModelPartitions();
  return info;
}

// On the loop thread, between batches: at most one partition per turn, so that the
// others are consumed between partitions. The partition being re-evaluated is not
// consumed meanwhile (its pass is one call: entities it has not reached yet would be
// scored under a model they were not re-evaluated under).
Status Service::StepModelChange() {
  if (!model_change_pending_.load()) return Status::Ok();
  const auto target = model();
  if (metrics_model_version_ != target->version) {
    metrics_.ModelLoaded(*target);  // leadscore_model_info names the new version from now on
    metrics_model_version_ = target->version;
  }
  std::shared_ptr<PartitionTask> next;
  int pending = 0;
  for (const auto& t : assignment_->Tasks()) {
    if (t->model()->version == target->version) continue;
    if (!next) next = t;
    ++pending;
  }
  metrics_.ReevaluationPending(pending);
  if (!next) {
    // Done, unless a newer change came meanwhile (it set the flag again after this read).
    model_change_pending_ = false;
    if (model()->version != target->version) model_change_pending_ = true;
    return Status::Ok();
  }
  // The batches waiting for their commit were scored under the old model: committed
  // first, with their offsets (the task's own commit before its pass has none).
  LEADSCORE_RETURN_IF_ERROR(CommitPending());
  ReevaluationOutcome done;
  Status s = next->ChangeModel(target, &done);
  if (!s.ok()) {
    return Status::IoError("partition " + std::to_string(next->partition()) + ": re-evaluation under model " +
                           target->version + " failed: " + s.message());
  }
  CountReevaluation(done);
  metrics_.ReevaluationPending(pending - 1);
  if (pending == 1) {
    logging::ScopedFields fields({{"event", std::string("model_change_done")}, {"to_version", target->version}});
    spdlog::info("model change done: every assigned partition runs model {}", target->version);
  }
  return Status::Ok();
}

void Service::CountReevaluation(ReevaluationOutcome& done) {
  if (done.to_version.empty()) return;
  metrics_.Reevaluated(done.accounts + done.leads);
  BatchOutcome routed;
  routed.events = std::move(done.events);
  metrics_.Outcome(routed);
}

Result<server::TierMoves> Service::DryRunModel(std::shared_ptr<const model::Model> model) const {
  if (!store_) return Status::Unavailable("no state dir: there is no stored state to evaluate a model against");
  server::TierMoves moves;
  moves.from_version = model_version();
  moves.to_version = model->version;
  for (const auto& t : assignment_->Tasks()) {
    LEADSCORE_RETURN_IF_ERROR(
        DryRunPartition(*store_, t->partition(), model, options_.engine, t->committed_stream_time(), &moves));
  }
  return moves;
}

std::optional<engine::EntityView> Service::ViewLead(const std::string& id) const {
  for (const auto& t : assignment_->Tasks()) {
    if (auto v = t->ViewLead(id)) return v;
  }
  return std::nullopt;
}

std::optional<engine::EntityView> Service::ViewAccount(const std::string& id) const {
  for (const auto& t : assignment_->Tasks()) {
    if (auto v = t->ViewAccount(id)) return v;
  }
  return std::nullopt;
}

Result<std::optional<codec::RoutingSnapshot>> Service::ViewRouting(const std::string& routing_id) const {
  for (const auto& t : assignment_->Tasks()) {
    auto found = t->ViewRouting(routing_id);
    if (!found.ok() || *found) return found;
  }
  return std::optional<codec::RoutingSnapshot>();
}

// Over the snapshots of the partitions assigned now: another instance's partitions are
// in its own report.
Result<std::string> Service::CalibrationReport(server::ReportFormat format) const {
  if (!store_) return Status::Unavailable("no state dir: routing events are not kept, there is nothing to report on");
  std::vector<int32_t> partitions;
  for (const auto& t : assignment_->Tasks()) partitions.push_back(t->partition());
  std::sort(partitions.begin(), partitions.end());
  auto report = ReportFromState(*store_, partitions, *model());
  if (!report.ok()) return report.status();
  return format == server::ReportFormat::kHtml ? report::ToHtml(*report) : report::ToJson(*report);
}

bool Service::Ready() const { return !failed_ && restoring_.load() == 0 && !assignment_->empty(); }

bool Service::Healthy() const { return !failed_; }

// Read by scrapes on the HTTP threads: the assignment's snapshot of tasks, librdkafka's
// cached watermarks, RocksDB's properties; none waits for a batch.
ServiceMetrics::Sources Service::MetricSources() const {
  ServiceMetrics::Sources s;
  s.tasks = [this] { return assignment_->Tasks(); };
  s.watermarks = [this](const std::string& topic, int32_t p) { return source_->CachedWatermarks(topic, p); };
  if (store_) {
    s.store = [this] { return store_->ReadStats(); };
  }
  s.producer_errors = [this] { return publisher_->DeliveryErrors(); };
  s.producer_stats = [this] { return publisher_->ProducerStatistics(); };
  s.consumer_errors = [this] { return source_->errors(); };
  s.consumer_stats = [this] { return source_->statistics(); };
  s.ready = [this] { return Ready(); };
  if (changelog_) {
    if (standby_) {
      s.standby = [this] {
        return std::pair<uint64_t, uint64_t>(standby_->following(), standby_->applied_records());
      };
    }
    s.changelog = [this] {
      return ServiceMetrics::Sources::ChangelogCounts{changelog_->appended_records(), changelog_->appended_bytes(),
                                                      changelog_->pending_records()};
    };
  }
  return s;
}

std::string Service::MetricsText() const { return metrics_.Text(); }

}  // namespace leadscore::stream
