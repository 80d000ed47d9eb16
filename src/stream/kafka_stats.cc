#include "stream/kafka_stats.h"

#include <nlohmann/json.hpp>

namespace leadscore::stream {

Result<KafkaStats> ParseKafkaStats(std::string_view text) {
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return Status::InvalidArgument("librdkafka statistics: not a JSON object");
  auto number = [](const nlohmann::json& o, const char* key) -> double {
    auto it = o.find(key);
    return it != o.end() && it->is_number() ? it->get<double>() : 0;
  };
  KafkaStats s;
  s.queue_messages = number(j, "msg_cnt");
  double rtt_sum = 0;
  int rtt_brokers = 0;
  if (auto brokers = j.find("brokers"); brokers != j.end() && brokers->is_object()) {
    for (const auto& [name, b] : brokers->items()) {
      if (!b.is_object()) continue;
      s.retries += static_cast<uint64_t>(number(b, "txretries"));
      s.request_timeouts += static_cast<uint64_t>(number(b, "req_timeouts"));
      s.disconnects += static_cast<uint64_t>(number(b, "disconnects"));
      auto rtt = b.find("rtt");
      if (rtt != b.end() && rtt->is_object() && number(*rtt, "cnt") > 0) {
        rtt_sum += number(*rtt, "avg") / 1e6;  // microseconds
        ++rtt_brokers;
      }
    }
  }
  if (rtt_brokers > 0) s.rtt_seconds = rtt_sum / rtt_brokers;
  return s;
}

void KafkaStatsHolder::Update(std::string_view json) {
  auto parsed = ParseKafkaStats(json);
  if (!parsed.ok()) return;
  std::lock_guard lock(mu_);
  if (!parsed->rtt_seconds) parsed->rtt_seconds = last_.rtt_seconds;
  last_ = *parsed;
}

KafkaStats KafkaStatsHolder::Get() const {
  std::lock_guard lock(mu_);
  return last_;
}

}  // namespace leadscore::stream
