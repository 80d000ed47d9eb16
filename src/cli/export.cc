#include "cli/export.h"

#include <algorithm>
#include <ostream>
#include <tuple>

#include <nlohmann/json.hpp>

#include "codec/codec.h"
#include "stream/topic_tail.h"

namespace leadscore::cli {
namespace {

std::string Base64(std::string_view bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t n = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8) | uint8_t(bytes[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += kAlphabet[(n >> s) & 63];
  }
  if (i < bytes.size()) {
    uint32_t n = uint8_t(bytes[i]) << 16;
    if (i + 1 < bytes.size()) n |= uint8_t(bytes[i + 1]) << 8;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

// A dead letter keeps why and where from (its headers) beside the record it refused,
// which is shown as the Input it is when it parses as one (a refusal is often about
// the content: a key mismatch, a time out of bounds) and as bytes otherwise.
std::string DeadLetterLine(const stream::TailRecord& r) {
  nlohmann::json dl;
  dl["headers"] = r.headers;
  dl["key"] = r.key;
  auto parsed = codec::RecordToJson(r.value);
  if (parsed.ok() && parsed->kind == codec::RecordKind::kInput) {
    dl["input"] = nlohmann::json::parse(parsed->json);
  } else {
    dl["value_base64"] = Base64(r.value);
  }
  return nlohmann::json{{"dead_letter", dl}}.dump();
}

}  // namespace

Result<ExportSummary> Export(const ExportOptions& options, std::ostream& out, std::ostream& errors) {
  auto exists = stream::TopicExists(options.brokers, {}, options.topic, options.timeout_ms);
  if (!exists.ok()) return exists.status();
  if (!*exists) return Status::NotFound("topic '" + options.topic + "' does not exist on " + options.brokers);
  auto records = stream::ReadToEnd(options.brokers, {}, options.topic, {}, options.timeout_ms);
  if (!records.ok()) return records.status();
  // One timeline: replay's stream time is the whole file's, so partitions are merged.
  std::stable_sort(records->begin(), records->end(), [](const auto& a, const auto& b) {
    return std::tie(a.timestamp_ms, a.partition, a.offset) < std::tie(b.timestamp_ms, b.partition, b.offset);
  });
  ExportSummary summary;
  for (const auto& r : *records) {
    if (options.from_time_ms && r.timestamp_ms < *options.from_time_ms) continue;
    if (r.headers.count("error")) {
      out << DeadLetterLine(r) << '\n';
      ++summary.dead_letters;
      continue;
    }
    auto line = codec::RecordToJson(r.value);
    if (!line.ok()) {
      errors << "export: " << options.topic << " partition " << r.partition << " offset " << r.offset << ": "
             << line.status().message() << " (skipped)\n";
      ++summary.unreadable;
      continue;
    }
    out << line->json << '\n';
    ++(line->kind == codec::RecordKind::kInput ? summary.inputs : summary.routing_events);
  }
  return summary;
}

}  // namespace leadscore::cli
