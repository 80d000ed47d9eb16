#include <spdlog/spdlog.h>

#include "logging/logging.h"
#include "stream/kafka_handle.h"

namespace leadscore::stream {
namespace {

// librdkafka logs with syslog levels.
spdlog::level::level_enum LevelOf(int syslog_level) {
  if (syslog_level <= 2) return spdlog::level::critical;  // emerg, alert, crit
  if (syslog_level == 3) return spdlog::level::err;
  if (syslog_level == 4) return spdlog::level::warn;
  if (syslog_level <= 6) return spdlog::level::info;  // notice, info
  return spdlog::level::debug;
}

}  // namespace

void LogKafkaLine(const rd_kafka_t* rk, int level, const char* facility, const char* line) {
  // Looked up per line: logging::Setup may have replaced it since the client started.
  auto logger = spdlog::get("librdkafka");
  if (!logger) logger = spdlog::default_logger();
  const spdlog::level::level_enum lvl = LevelOf(level);
  if (!logger->should_log(lvl)) return;
  const char* client = rk ? rd_kafka_name(rk) : "";
  logging::ScopedFields fields({{"client", std::string(client)}, {"facility", std::string(facility)}});
  logger->log(lvl, "{} {}: {}", client, facility, line);
}

}  // namespace leadscore::stream
