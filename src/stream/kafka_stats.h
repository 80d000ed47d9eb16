// librdkafka's statistics (its STATISTICS.md; `statistics.interval.ms`), reduced to the
// few numbers the metrics expose. Internal to src/stream/.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string_view>

#include "common/status.h"

namespace leadscore::stream {

struct KafkaStats {
  double queue_messages = 0;  // msg_cnt: messages queued in the client (producer: not yet acknowledged)
  // Mean of the brokers' rtt.avg, over the brokers with requests in the last interval;
  // nullopt when none had any. (A consumer's includes its fetches, which wait on the
  // broker for up to fetch.wait.max.ms when there is nothing to read.)
  std::optional<double> rtt_seconds;
  // Sums over the client's broker connections, since the client started.
  uint64_t retries = 0;           // txretries: requests sent again
  uint64_t request_timeouts = 0;  // req_timeouts
  uint64_t disconnects = 0;       // connections lost
};

Result<KafkaStats> ParseKafkaStats(std::string_view json);

// The latest statistics of one client: written by its statistics callback (on the
// thread that polls it), read by scrapes on any thread.
class KafkaStatsHolder {
 public:
  // Bad JSON changes nothing; an interval without round trips keeps the last RTT.
  void Update(std::string_view json);
  KafkaStats Get() const;

 private:
  mutable std::mutex mu_;
  KafkaStats last_;
};

}  // namespace leadscore::stream
