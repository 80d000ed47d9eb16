#include "logging/logging.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <ctime>
#include <nlohmann/json.hpp>

namespace leadscore::logging {
namespace {

// The fields of the lines this thread writes; ScopedFields pushes and pops.
thread_local std::vector<Field> t_fields;

// "2026-11-23T10:00:00.123Z"
std::string UtcIso8601Ms(spdlog::log_clock::time_point t) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  const size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(ms - static_cast<int64_t>(secs) * 1000));
  return buf;
}

class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    nlohmann::ordered_json line;
    line["time"] = UtcIso8601Ms(msg.time);
    const auto level = spdlog::level::to_string_view(msg.level);
    line["level"] = std::string_view(level.data(), level.size());
    line["logger"] = std::string_view(msg.logger_name.data(), msg.logger_name.size());
    line["message"] = std::string_view(msg.payload.data(), msg.payload.size());
    for (const Field& f : t_fields) {
      std::visit([&](const auto& v) { line[f.key] = v; }, f.value);
    }
    // Messages can carry bytes of a refused record: invalid UTF-8 becomes U+FFFD
    // instead of an exception in the middle of logging.
    const std::string text = line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
    dest.append(text.data(), text.data() + text.size());
    dest.push_back('\n');
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<JsonFormatter>(); }
};

}  // namespace

std::unique_ptr<spdlog::formatter> MakeFormatter(Format format) {
  if (format == Format::kJson) return std::make_unique<JsonFormatter>();
  return std::make_unique<spdlog::pattern_formatter>("%Y-%m-%dT%H:%M:%S.%eZ [%n] [%^%l%$] %v",
                                                     spdlog::pattern_time_type::utc);
}

void Setup(Format format, spdlog::level::level_enum level) {
  // Colours only for text on a terminal (the colour sink checks); JSON stays plain.
  spdlog::sink_ptr sink;
  if (format == Format::kJson) sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  else sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  sink->set_formatter(MakeFormatter(format));
  auto main = std::make_shared<spdlog::logger>("leadscore", sink);
  auto kafka = std::make_shared<spdlog::logger>("librdkafka", sink);
  spdlog::drop("librdkafka");
  spdlog::set_default_logger(main);
  spdlog::register_logger(kafka);
  spdlog::set_level(level);
}

ScopedFields::ScopedFields(std::initializer_list<Field> fields) : restore_size_(t_fields.size()) {
  t_fields.insert(t_fields.end(), fields.begin(), fields.end());
}

ScopedFields::~ScopedFields() { t_fields.resize(restore_size_); }

std::optional<uint64_t> Throttle::Admit(std::string_view kind, int64_t now_ms, uint64_t count) {
  auto it = kinds_.find(kind);
  if (it == kinds_.end()) {
    kinds_.emplace(std::string(kind), Kind{.last_line_ms = now_ms});
    return 0;
  }
  Kind& k = it->second;
  if (now_ms - k.last_line_ms < interval_ms_) {
    k.suppressed += count;
    return std::nullopt;
  }
  const uint64_t suppressed = k.suppressed;
  k = Kind{.last_line_ms = now_ms};
  return suppressed;
}

}  // namespace leadscore::logging
