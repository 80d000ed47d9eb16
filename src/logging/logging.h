// The process's log as operators read it: spdlog on stderr (stdout carries data), as
// text or as one JSON object per line, both with UTC times; structured fields for the
// lines a thread writes; and a throttle for warnings that would otherwise come once
// per record.
//
// Setup replaces the loggers: call it before other threads log. Fields are per thread.
// A Throttle is not thread-safe: one per caller.
#pragma once

#include <spdlog/spdlog.h>

#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace leadscore::logging {

enum class Format : uint8_t {
  kText,  // 2026-11-23T10:00:00.123Z [leadscore] [info] message
  kJson,  // {"time":"2026-11-23T10:00:00.123Z","level":"info","logger":"leadscore","message":"...",<fields>}
};

// Installs the default logger ("leadscore") and the one librdkafka's own lines go
// through ("librdkafka") on stderr, in `format` at `level`, replacing any before.
void Setup(Format format, spdlog::level::level_enum level);

// The formatter of each format, for a sink of one's own (tests).
std::unique_ptr<spdlog::formatter> MakeFormatter(Format format);

using FieldValue = std::variant<std::string, int64_t, double>;
struct Field {
  std::string key;
  FieldValue value;
};

// Fields that every line this thread logs while the object lives carries, as members
// of the JSON object after "message" (in text the message alone says it: put the facts
// in the message too). Nests: an inner scope adds to the outer one. It is spdlog's MDC,
// which came with spdlog 1.13; Debian 12 has 1.10.
class ScopedFields {
 public:
  explicit ScopedFields(std::initializer_list<Field> fields);
  ~ScopedFields();
  ScopedFields(const ScopedFields&) = delete;
  ScopedFields& operator=(const ScopedFields&) = delete;

 private:
  size_t restore_size_;
};

// At most one line per `interval_ms` per kind for warnings that can come once per
// record (dead letters, skipped records): the first occurrence of a kind is logged, the
// ones within the interval after a logged line are counted, and the next line says how
// many were left out.
class Throttle {
 public:
  explicit Throttle(int64_t interval_ms) : interval_ms_(interval_ms) {}

  // `count` occurrences of `kind` at `now_ms` (any monotonic clock). Returns, when a
  // line is due, how many occurrences of the kind were left out since its last line;
  // nothing when this one is to be left out (and counted) too.
  std::optional<uint64_t> Admit(std::string_view kind, int64_t now_ms, uint64_t count = 1);

 private:
  struct Kind {
    int64_t last_line_ms = 0;
    uint64_t suppressed = 0;
  };
  int64_t interval_ms_;
  std::map<std::string, Kind, std::less<>> kinds_;
};

}  // namespace leadscore::logging
