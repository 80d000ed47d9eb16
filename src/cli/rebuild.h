// `leadscore rebuild` (SPEC sections 3 and 4): a new state under a new model, read from
// the input topics' first offsets into `<state_dir>.rebuild` beside the live state, then
// switched to. For model changes that need all of history (half-lives, multipliers);
// the other changes are exact live (SIGHUP, PUT /v1/model). Not thread-safe.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <map>
#include <memory>
#include <string>

#include "common/status.h"
#include "model/model.h"
#include "stream/options.h"
#include "stream/topic_tail.h"

namespace leadscore::cli {

struct RebuildFlags {
  std::string config_path;
  std::string model_path;
  bool switch_only = false;  // --switch: no reading, only the switch to a finished rebuild
  int timeout_ms = 30000;    // Kafka requests (metadata, watermarks, reading a round)
};

// Every input partition's watermarks; an error naming topic, partition and first
// retained offset when retention (or deletion) has dropped the beginning of any: a
// state built from what is left would miss history without saying so.
Result<std::map<std::string, std::map<int32_t, stream::Watermark>>> CheckInputsComplete(
    const stream::ServiceOptions& service, int timeout_ms);

struct BuildSummary {
  int32_t partitions = 0;
  uint64_t records = 0;        // read and given to the tasks
  uint64_t refused = 0;        // records the tasks refused (the service dead-lettered them then)
  uint64_t routing_events = 0; // the rebuild's tier changes: history, dropped, never published
  int rounds = 0;              // reads until one found nothing new (caught up)
};

// Reads every input partition from offset 0 to its end, then again from there until a
// round finds nothing new, into a fresh state at `dir` (removed first when it is there:
// the leftovers of an interrupted rebuild), scored by one PartitionTask per partition
// under `model`. Progress on `progress` (a bar when `tty`). On success `dir` holds a
// complete state, marked so (the switch takes only such a one).
Result<BuildSummary> BuildState(std::shared_ptr<const model::Model> model, const stream::ServiceOptions& service,
                                const std::string& dir, std::ostream& progress, bool tty, int timeout_ms);

struct SwitchOutcome {
  bool switched = false;
  std::string before;  // where the live state went (empty: there was none)
  std::string why_not; // not switched: why, and what to do
  uint64_t announced = 0;  // tier changes against the live state, in the new state's outbox
};

// `state_dir` becomes the complete rebuild at `state_dir.rebuild` (built under `model`);
// the live state, when there is one, goes to FreeBackupPath(state_dir, <unix seconds>).
// Not while a service holds the live state (RocksDB's lock): then `why_not` says so.
// Holding that lock, before the rename: every rebuilt entity whose tier differs from the
// live state's is announced in the rebuilt outbox (reason "model OLD -> NEW"), and with
// the changelog on, each changelog partition gets one batch making it the rebuilt state
// (README "Rebuilding the state under a new model": crash windows). An error: no
// complete rebuild of that model, or a step failed (the live state is then untouched and
// a rerun with --switch continues).
Result<SwitchOutcome> SwitchState(std::shared_ptr<const model::Model> model, const stream::ServiceOptions& service,
                                  const std::string& state_dir);

// Where SwitchState puts the live state: `state_dir.before-rebuild-<seconds>`, or with
// "-2", "-3", ... after it when an earlier rebuild in the same second took that name.
std::string FreeBackupPath(const std::string& state_dir, int64_t seconds);

// The command: exit 0 built and switched, 1 refused or failed (the reason on `err`),
// 2 a usage error.
int RunRebuild(const RebuildFlags& flags, std::ostream& err, bool tty);

}  // namespace leadscore::cli
