// The streaming service: the loop that joins Kafka to the partition tasks. Each turn
// polls a batch of records, hands each partition's records to its task on a pool of
// worker threads (decode, load, score) and sends the refused ones to the DLQ. Once per
// commit interval (merged writes: the batches processed since the last commit; also on
// an idle poll, a rebalance, a model change and stopping) the dead letters are
// delivered, every task commits its part (state + offsets + outbox in one RocksDB write
// per partition), then the committed routing events are published. Assignment, tasks, publishing and
// metrics are units of their own (assignment.h, partition_task.h, publisher.h,
// service_metrics.h); the service keeps only the loop and one health state.
//
// Exactly-once routing (with a state dir): see publisher.h and the README.
// Inputs must be co-partitioned (same partition count, keyed by account_id with the
// default partitioner): partition N of every input topic is one task.
//
// RunOnce/Run belong to one thread; the Backend readers may be called from any thread
// and never wait for a batch.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "common/status.h"
#include "logging/logging.h"
#include "model/model.h"
#include "server/backend.h"
#include "store/state_store.h"
#include "stream/assignment.h"
#include "stream/batch_sizer.h"
#include "stream/options.h"
#include "stream/service_metrics.h"
#include "stream/task_batch.h"

namespace leadscore::stream {

class KafkaChangelog;
class Standby;
class KafkaSource;
struct SourceRecord;
class Publisher;
class WorkerPool;

class Service : public server::Backend {
 public:
  using Clock = std::function<int64_t()>;  // Unix ms; the service's only clock (empty: none)

  static Result<std::unique_ptr<Service>> Start(std::shared_ptr<const model::Model> model, ServiceOptions options,
                                                Clock clock);
  ~Service() override;

  // One batch: poll, score, commit with the outbox, publish. After an error (state
  // that cannot be read or written, a delivery refused for good) it consumes no more
  // and returns that error: not ready, not healthy, nothing lost.
  Status RunOnce();
  // Batches until `stop` is set; then finishes the batch, commits and closes. With
  // `until_caught_up`, also returns once every input partition is read to its end and
  // every routing event is delivered.
  Status Run(const std::atomic<bool>& stop, bool until_caught_up = false);
  // Every assigned input partition read to the end and the outbox delivered.
  bool CaughtUp();

  const ServiceCounters& counters() const { return metrics_.counters(); }
  std::map<std::string, uint64_t> DeadLettersByReason() const { return metrics_.DeadLettersByReason(); }
  std::map<std::string, uint64_t> SkippedByReason() const { return metrics_.SkippedByReason(); }

  // server::Backend
  std::optional<engine::EntityView> ViewLead(const std::string& id) const override;
  std::optional<engine::EntityView> ViewAccount(const std::string& id) const override;
  std::string MetricsText() const override;
  bool Ready() const override;
  bool Healthy() const override;
  std::string model_version() const override;
  Result<std::optional<codec::RoutingSnapshot>> ViewRouting(const std::string& routing_id) const override;
  Result<std::string> CalibrationReport(server::ReportFormat format) const override;

  // Model changes (SPEC section 3, "Changing the model"). ChangeModel may be called from
  // any thread (SIGHUP, PUT /v1/model): it makes `model` the running one and returns;
  // the processing loop then re-evaluates the assigned partitions one at a time, one
  // per turn before its batch (PartitionTask::ChangeModel), so the other partitions
  // are consumed between them. A partition assigned later resumes under it (and is
  // re-evaluated as it resumes). A change while one is under way goes on from where it
  // is: partitions already changed change again. Needs a state dir.
  Status ChangeModel(std::shared_ptr<const model::Model> model, std::string yaml) override;
  Status ChangeModel(std::shared_ptr<const model::Model> model) { return ChangeModel(std::move(model), ""); }
  server::ModelInfo RunningModel() const override;
  // The tier moves `model` would cause over the committed state of the assigned
  // partitions, on scratch engines: nothing is changed.
  Result<server::TierMoves> DryRunModel(std::shared_ptr<const model::Model> model) const override;
  // Assigned partitions not yet re-evaluated under the running model.
  int PendingModelPartitions() const;

  // Tests: called on a worker thread in the middle of every task's batch (scored, not
  // committed), so a test can hold a batch there without timing.
  void set_mid_batch_hook(MidBatchHook hook) { assignment_->set_mid_batch_hook(std::move(hook)); }
  // Tests: the clock of the commit interval (steady ms; default: std::chrono::steady_clock).
  void set_commit_clock(std::function<int64_t()> clock) { commit_clock_ = std::move(clock); }
  // Batches processed and not yet committed (merged writes), and their records.
  size_t pending_batches() const { return pending_.batches(); }
  // How long the next poll may wait for a record: batch.max_wait_ms, or less when
  // something is due sooner without one — a loaded entity's check (a burst run's end, a
  // decay crossing) by the service clock, or the commit of the pending batches.
  int PollWaitMs() const;
  // Tests: called after each committed page of a re-evaluation pass (see PartitionTask).
  void set_reevaluation_hook(ReevaluationHook hook) { assignment_->set_reevaluation_hook(std::move(hook)); }

 private:
  Service() = default;
  Status Batch();
  // Merged writes: the batches processed since the last commit, made durable (their dead
  // letters delivered first, then one write per task) and published. Nothing pending: nothing.
  Status CommitPending();
  int64_t CommitClockMs() const;
  // batch.commit_when_caught_up: the poll of `polled` records (it could take `limit`)
  // left nothing behind locally, and less than a poll's worth on the broker as last seen.
  bool CaughtUpWith(size_t polled, size_t limit,
                    const std::map<std::pair<std::string, int32_t>, int64_t>& next_offsets) const;
  // One partition of a model change under way, if any: called by the loop before a batch.
  Status StepModelChange();
  std::shared_ptr<const model::Model> model() const;
  // A pass's counts into the metrics (its routing events count as routed).
  void CountReevaluation(ReevaluationOutcome& done);
  std::optional<std::map<std::string, int64_t>> OnAssign(int32_t partition);
  std::optional<std::map<std::string, int64_t>> Resume(int32_t partition);
  // The partition's local state made equal to its changelog (store::StateStore::Restore).
  Status Restore(int32_t partition);
  void OnRevoke(int32_t partition);
  // Whether leads changing partition go through the repartition topic, and the topics
  // the consumer reads: the inputs, and that one.
  bool HandsOffLeads() const;
  std::vector<std::string> ReadTopics() const;
  std::vector<PartitionTask*> TaskPointers(const std::vector<std::shared_ptr<PartitionTask>>& tasks) const;
  ServiceMetrics::Sources MetricSources() const;
  void Fail(const Status& why);  // the first failure wins
  Status failure() const;
  // The per-record lines, through log_throttle_.
  void LogDeadLetter(const SourceRecord& record, const Refused& why);
  void LogSkipped(engine::ApplyOutcome kind, uint64_t records);

  // The running model: the one the partitions are, or are being, re-evaluated under.
  mutable std::mutex model_mu_;
  std::shared_ptr<const model::Model> model_;
  std::string model_yaml_;
  int64_t model_loaded_at_ms_ = 0;
  std::atomic<bool> model_change_pending_{false};
  std::string metrics_model_version_;  // the loop thread's: which model the metrics were set up for
  ServiceOptions options_;
  Clock clock_;
  std::unique_ptr<KafkaChangelog> changelog_;  // declared before the store: it outlives it
  std::unique_ptr<store::StateStore> store_;
  std::unique_ptr<Standby> standby_;  // declared after the store: it goes first
  std::unique_ptr<Assignment> assignment_;
  std::unique_ptr<Publisher> publisher_;
  std::unique_ptr<KafkaSource> source_;
  std::unique_ptr<WorkerPool> pool_;         // scoring
  std::unique_ptr<WorkerPool> commit_pool_;  // committing: a partition's commit mostly waits
  static constexpr size_t kCommitThreads = 8;
  std::map<std::string, codec::Format> format_of_;
  BatchSizer sizer_{0, 1};  // records per poll under batch.max_process_ms (set at Start)
  // Merged writes (loop thread): what was processed and not yet committed, since when
  // (commit clock), its dead letters on their way, and the group's offsets after it.
  PendingCommits pending_;
  int64_t pending_since_ms_ = 0;
  size_t pending_dead_letters_ = 0;
  std::map<std::pair<std::string, int32_t>, int64_t> pending_group_offsets_;
  std::function<int64_t()> commit_clock_;
  ServiceMetrics metrics_;
  logging::Throttle log_throttle_{10'000};  // on the processing thread; interval from the options
  // The one health state: ok until processing fails for good.
  mutable std::mutex health_mu_;
  Status failure_;
  std::atomic<bool> failed_{false};
  std::atomic<int> restoring_{0};  // partitions being restored: not ready meanwhile
};

}  // namespace leadscore::stream
