// How many records the next poll may take so that scoring them stays within a time
// budget (`batch.max_process_ms`). Under load a poll finds everything that arrived
// while the last batch was processed; without a bound, batches and their processing
// time grow together, and every record waits for the whole batch ahead of it. With
// it, a record waits at most about one budget behind the batch in front.
//
// The limit follows the measured cost per record: an exponentially weighted mean of
// seconds per record over the batches seen (weight 1/4 to the newest, so a burst of
// expensive records shrinks the next batches quickly, one cheap batch does not undo
// it). Pure arithmetic on what it is told; time is an argument, not read.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>

namespace leadscore::stream {

class BatchSizer {
 public:
  // budget_ms 0: no budget, every poll may take max_records.
  BatchSizer(double budget_ms, size_t max_records) : budget_s_(budget_ms / 1000), max_(std::max<size_t>(1, max_records)) {}

  // Records the next poll may take: at least kMinRecords (a budget smaller than one
  // record's cost must not stall the stream), at most max_records.
  size_t Limit() const {
    if (budget_s_ <= 0 || seconds_per_record_ <= 0) return max_;
    const double fit = budget_s_ / seconds_per_record_;
    if (fit >= static_cast<double>(max_)) return max_;
    return std::clamp(static_cast<size_t>(std::llround(fit)), std::min(kMinRecords, max_), max_);
  }

  // A batch of `records` took `seconds` to process. Empty batches say nothing of the cost.
  void Observe(size_t records, double seconds) {
    if (records == 0 || seconds < 0) return;
    const double per = seconds / static_cast<double>(records);
    seconds_per_record_ = seconds_per_record_ <= 0 ? per : seconds_per_record_ + kWeight * (per - seconds_per_record_);
  }

  double seconds_per_record() const { return seconds_per_record_; }

  static constexpr size_t kMinRecords = 64;
  static constexpr double kWeight = 0.25;

 private:
  double budget_s_;
  size_t max_;
  double seconds_per_record_ = 0;  // 0: nothing measured yet
};

}  // namespace leadscore::stream
