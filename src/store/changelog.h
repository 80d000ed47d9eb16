// The changelog: every committed change of a partition's state, also written to a
// compacted topic partition of its own, so that any instance can rebuild or catch up the
// partition's state (SPEC section 6). The store speaks to it through these two faces;
// the Kafka side lives in stream/changelog_topic.h (the store knows nothing of Kafka).
//
// A changelog record is one store key with its value (a delete is a tombstone, the
// value absent). A committed batch is its records followed by an end marker, the key
// `[partition u32 BE]['#']`, a kind the store never uses: a restore applies records up
// to the last marker it reads and never a batch whose marker it has not seen. Records
// after the last marker are the remains of a writer that died mid-batch; the next owner
// overwrites each of their keys with the restored value (or a tombstone) and writes a
// marker, so after any compaction every record the log keeps is part of a whole batch.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "common/status.h"

namespace leadscore::store {

struct ChangelogOp {
  std::string key;
  std::optional<std::string> value;  // nullopt: the key was deleted (a tombstone)
};

class ChangelogWriter {
 public:
  virtual ~ChangelogWriter() = default;
  // Writes `ops` (one committed batch of `partition`, its end marker last) in order and
  // waits until the broker has acknowledged all of them. The offset after the last: the
  // changelog position the state reaches once this batch is applied.
  virtual Result<int64_t> Append(int32_t partition, std::span<const ChangelogOp> ops) = 0;
};

class ChangelogReader {
 public:
  virtual ~ChangelogReader() = default;
  // The partition's first and next offset (low and high watermark) as the broker says now.
  virtual Result<std::pair<int64_t, int64_t>> Watermarks(int32_t partition) = 0;
  // Every record from `from` up to (not including) `to`, in order. A record is its
  // offset, key and value (nullopt: tombstone). `fn` returning an error stops the read.
  using Visit = std::function<Status(int64_t offset, std::string_view key, std::optional<std::string_view> value)>;
  virtual Status Read(int32_t partition, int64_t from, int64_t to, const Visit& fn) = 0;
};

// What a restore did, for logs and metrics.
struct RestoreProgress {
  uint64_t records = 0, bytes = 0;
  int64_t from = 0, to = 0;  // changelog offsets read
  // Called when a restore starts reading (records 0), then every few thousand records
  // (for progress lines).
  std::function<void(const RestoreProgress&)> on_progress;
};

}  // namespace leadscore::store
