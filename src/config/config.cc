#include "config/config.h"

#include <yaml-cpp/yaml.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "common/time_units.h"
#include "server/address.h"

namespace leadscore::config {
namespace {

// `path` as written when absolute or when there is no base, else under `base_dir`.
std::string Resolve(const std::string& path, const std::string& base_dir) {
  if (path.empty() || base_dir.empty() || std::filesystem::path(path).is_absolute()) return path;
  return (std::filesystem::path(base_dir) / path).lexically_normal().string();
}

class Loader {
 public:
  explicit Loader(std::string base_dir) : base_dir_(std::move(base_dir)) {}

  Result<Config> Load(std::string_view text) {
    YAML::Node root;
    try {
      root = YAML::Load(std::string(text));
    } catch (const YAML::Exception& e) {
      return Status::InvalidArgument("line " + std::to_string(e.mark.line + 1) + ": not valid YAML: " + e.msg);
    }
    Config c;
    if (root.IsNull()) {  // an empty file: all defaults
      c.state_dir = Resolve(c.state_dir, base_dir_);
      c.service.store.dir = c.state_dir;
      return c;
    }
    if (!root.IsMap()) return Status::InvalidArgument("line 1: the config must be a mapping");
    Substitute(root);
    Keys(root, "config", {"brokers", "group_id", "model", "state_dir", "http", "inputs", "output", "dlq_topic",
                          "batch", "max_future_skew", "dedupe_window", "embedded_broker", "kafka", "kafka_consumer", "kafka_producer", "state",
                          "limits", "log_level", "log_format", "threads"});
    if (root["brokers"]) c.service.brokers = Text(root["brokers"]);
    if (root["group_id"]) c.service.group_id = Text(root["group_id"]);
    if (root["model"]) c.model_path = Text(root["model"]);
    if (root["state_dir"]) c.state_dir = Text(root["state_dir"]);
    if (root["dlq_topic"]) c.service.dlq_topic = Text(root["dlq_topic"]);
    if (root["threads"]) c.service.threads = static_cast<size_t>(Int(root["threads"], 0, 256));
    if (root["log_level"]) {
      c.log_level = Text(root["log_level"]);
      static const std::set<std::string> kLevels = {"trace", "debug", "info", "warn", "error", "critical", "off"};
      if (!kLevels.count(c.log_level)) Error(root["log_level"], "log_level must be one of trace, debug, info, warn, error, critical, off");
    }
    if (root["log_format"]) {
      const std::string f = Text(root["log_format"]);
      if (f == "json") c.log_format = logging::Format::kJson;
      else if (f != "text") Error(root["log_format"], "log_format must be text or json, not '" + f + "'");
    }
    if (const YAML::Node http = root["http"]) {
      Keys(http, "http", {"address", "admin_token", "threads", "max_connections", "idle_timeout_ms", "read_timeout_ms",
                          "max_header_bytes", "max_header_count", "max_body_bytes", "max_requests_per_connection"});
      server::HttpOptions& h = c.http;
      if (http["address"]) {
        h.address = Text(http["address"]);
        auto parsed = server::ParseHttpAddress(h.address);
        if (!parsed.ok()) Error(http["address"], parsed.status().message());
      }
      if (http["admin_token"]) h.admin_token = Text(http["admin_token"]);
      // SPEC section 5: views of lead data and, later, endpoints that change the model
      // are not served to other machines without a token.
      auto parsed = server::ParseHttpAddress(h.address);
      if (parsed.ok() && !server::IsLoopbackHost(parsed->host) && h.admin_token.empty()) {
        Error(http["address"], "http address '" + h.address +
                                   "' can be reached from other machines: set http.admin_token (for example "
                                   "${env:LEADSCORE_ADMIN_TOKEN}), or listen on a loopback address such as 127.0.0.1");
      }
      if (http["threads"]) h.io_threads = static_cast<int>(Int(http["threads"], 1, 64));
      if (http["max_connections"]) h.max_connections = static_cast<int>(Int(http["max_connections"], 1, 100000));
      if (http["idle_timeout_ms"]) h.idle_timeout_ms = static_cast<int>(Int(http["idle_timeout_ms"], 1, 3600000));
      if (http["read_timeout_ms"]) h.read_timeout_ms = static_cast<int>(Int(http["read_timeout_ms"], 1, 3600000));
      if (http["max_header_bytes"]) h.max_header_bytes = static_cast<size_t>(Int(http["max_header_bytes"], 1024, 1 << 20));
      if (http["max_header_count"]) h.max_header_count = static_cast<int>(Int(http["max_header_count"], 1, 10000));
      if (http["max_body_bytes"]) h.max_body_bytes = static_cast<size_t>(Int(http["max_body_bytes"], 0, 1 << 30));
      if (http["max_requests_per_connection"]) {
        h.max_requests_per_connection = static_cast<int>(Int(http["max_requests_per_connection"], 1, 1 << 30));
      }
    }
    if (const YAML::Node inputs = root["inputs"]) {
      if (!inputs.IsSequence() || inputs.size() == 0) {
        Error(inputs, "inputs must be a non-empty list of { topic, format }");
      } else {
        c.service.inputs.clear();
        for (const auto& in : inputs) {
          Keys(in, "inputs[]", {"topic", "format"});
          stream::InputTopic t;
          if (!in["topic"]) Error(in, "an input needs a topic");
          else t.name = Text(in["topic"]);
          if (in["format"]) t.format = Format(in["format"]);
          c.service.inputs.push_back(t);
        }
      }
    }
    if (const YAML::Node out = root["output"]) {
      Keys(out, "output", {"topic", "format"});
      if (out["topic"]) c.service.output_topic = Text(out["topic"]);
      if (out["format"]) c.service.output_format = Format(out["format"]);
    }
    if (const YAML::Node batch = root["batch"]) {
      Keys(batch, "batch", {"max_records", "max_wait_ms", "commit_interval_ms", "commit_when_caught_up", "max_process_ms"});
      if (batch["max_process_ms"]) c.service.max_process_ms = Int(batch["max_process_ms"], 0, 60000);
      if (batch["max_records"]) c.service.max_batch = static_cast<size_t>(Int(batch["max_records"], 1, 1000000));
      if (batch["max_wait_ms"]) c.service.max_wait_ms = static_cast<int>(Int(batch["max_wait_ms"], 0, 60000));
      if (batch["commit_interval_ms"]) c.service.commit_interval_ms = Int(batch["commit_interval_ms"], 0, 60000);
      if (batch["commit_when_caught_up"]) c.service.commit_when_caught_up = Bool(batch["commit_when_caught_up"]);
    }
    if (const YAML::Node st = root["state"]) {
      Keys(st, "state", {"block_cache_mb", "write_buffer_mb", "sync", "cache_entities", "cache_mb", "erasure_scrub_interval",
                         "changelog_topic", "changelog", "standby_replicas", "lead_handoff", "routing_retention"});
      if (st["standby_replicas"]) c.service.standby_replicas = static_cast<int>(Int(st["standby_replicas"], 0, 100));
      if (st["changelog"]) c.service.changelog_enabled = Bool(st["changelog"]);
      if (st["lead_handoff"]) c.service.lead_handoff = Bool(st["lead_handoff"]);
      if (st["changelog_topic"]) c.service.changelog_topic = Text(st["changelog_topic"]);
      if (st["erasure_scrub_interval"]) c.service.store.erasure_scrub_interval_ms = DurationMs(st["erasure_scrub_interval"]);
      if (st["routing_retention"]) {
        c.service.store.routing_retention_ms = DurationMs(st["routing_retention"]);
        if (c.service.store.routing_retention_ms <= 0) Error(st["routing_retention"], "routing_retention must be more than 0");
      }
      if (st["cache_entities"]) c.service.cache_entities = static_cast<size_t>(Int(st["cache_entities"], 1, 1LL << 32));
      if (st["cache_mb"]) c.service.cache_bytes = static_cast<size_t>(Int(st["cache_mb"], 1, 1 << 24)) << 20;
      if (st["block_cache_mb"]) c.service.store.block_cache_bytes = static_cast<size_t>(Int(st["block_cache_mb"], 1, 1 << 20)) << 20;
      if (st["write_buffer_mb"]) c.service.store.write_buffer_bytes = static_cast<size_t>(Int(st["write_buffer_mb"], 1, 1 << 16)) << 20;
      if (st["sync"]) c.service.store.sync = Bool(st["sync"]);
    }
    if (const YAML::Node lim = root["limits"]) {
      Keys(lim, "limits", {"max_record_bytes", "max_dead_letter_bytes", "max_id_bytes", "max_attributes", "max_attribute_bytes"});
      codec::DecoderOptions& d = c.service.decoder;
      if (lim["max_record_bytes"]) d.max_record_bytes = static_cast<size_t>(Int(lim["max_record_bytes"], 1, 1 << 30));
      if (lim["max_dead_letter_bytes"]) {
        c.service.max_dead_letter_bytes = static_cast<size_t>(Int(lim["max_dead_letter_bytes"], 0, 1 << 30));
      }
      if (lim["max_id_bytes"]) d.max_id_bytes = static_cast<size_t>(Int(lim["max_id_bytes"], 1, 1 << 20));
      if (lim["max_attributes"]) d.max_attributes = static_cast<size_t>(Int(lim["max_attributes"], 0, 1 << 20));
      if (lim["max_attribute_bytes"]) d.max_attribute_bytes = static_cast<size_t>(Int(lim["max_attribute_bytes"], 1, 1 << 30));
    }
    if (root["max_future_skew"]) c.service.max_future_skew_ms = DurationMs(root["max_future_skew"]);
    if (root["dedupe_window"]) c.service.engine.dedupe_window_ms = DurationMs(root["dedupe_window"]);
    if (const YAML::Node eb = root["embedded_broker"]) {
      Keys(eb, "embedded_broker", {"partitions"});
      if (eb["partitions"]) c.embedded_partitions = static_cast<int>(Int(eb["partitions"], 1, 256));
    }
    for (auto [key, target] : {std::pair{"kafka", &c.service.kafka}, std::pair{"kafka_consumer", &c.service.kafka_consumer},
                               std::pair{"kafka_producer", &c.service.kafka_producer}}) {
      const YAML::Node kafka = root[key];
      if (!kafka) continue;
      if (!kafka.IsMap()) Error(kafka, std::string(key) + " must be a mapping of librdkafka properties");
      for (const auto& kv : kafka) (*target)[kv.first.Scalar()] = Text(kv.second);
    }
    c.model_path = Resolve(c.model_path, base_dir_);
    c.state_dir = Resolve(c.state_dir, base_dir_);
    c.service.store.dir = c.state_dir;
    if (!problems_.empty()) return Status::InvalidArgument(problems_);
    return c;
  }

 private:
  // Replaces ${env:NAME} and ${file:/path} in every value (not in keys) in place.
  void Substitute(YAML::Node node) {
    if (node.IsMap()) {
      for (auto kv : node) Substitute(kv.second);
    } else if (node.IsSequence()) {
      for (auto item : node) Substitute(item);
    } else if (node.IsScalar() && node.Scalar().find("${") != std::string::npos) {
      node = Expand(node, node.Scalar());
      // What came in is a plain value, number or boolean included: quotes around a
      // reference are YAML syntax (a flow mapping needs them around '{' and '}').
      node.SetTag("?");
    }
  }
  std::string Expand(const YAML::Node& n, const std::string& text) {
    std::string out;
    for (size_t i = 0; i < text.size();) {
      if (text.compare(i, 3, "$${") == 0) {
        out += "${";
        i += 3;
        continue;
      }
      if (text.compare(i, 2, "${") != 0) {
        out += text[i++];
        continue;
      }
      const size_t end = text.find('}', i);
      if (end == std::string::npos) {
        Error(n, "'" + text.substr(i) + "' has no closing '}'");
        return text;
      }
      const std::string ref = text.substr(i, end + 1 - i);  // ${kind:arg}
      const std::string body = text.substr(i + 2, end - i - 2);
      i = end + 1;
      if (body.rfind("env:", 0) == 0) {
        const std::string name = body.substr(4);
        const bool valid = !name.empty() && !std::isdigit(static_cast<unsigned char>(name[0])) &&
                           name.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") ==
                               std::string::npos;
        const char* value = valid ? std::getenv(name.c_str()) : nullptr;
        if (!valid) Error(n, ref + ": '" + name + "' is not an environment variable name");
        else if (!value) Error(n, ref + ": the environment variable " + name + " is not set");
        else out += value;
      } else if (body.rfind("file:", 0) == 0) {
        const std::string path = Resolve(body.substr(5), base_dir_);
        errno = 0;
        std::ifstream in(path, std::ios::binary);
        std::stringstream content;
        if (in) content << in.rdbuf();
        if (path.empty() || !in || in.bad() || std::filesystem::is_directory(path)) {
          const int err = errno;
          Error(n, ref + ": cannot read '" + path + "'" + (err ? std::string(": ") + std::strerror(err) : ""));
          continue;
        }
        std::string v = content.str();
        // Secret files usually end with a newline that is not part of the secret.
        if (!v.empty() && v.back() == '\n') v.pop_back();
        if (!v.empty() && v.back() == '\r') v.pop_back();
        out += v;
      } else {
        Error(n, ref + ": write ${env:NAME} or ${file:/path} (and $${ for a literal ${)");
      }
    }
    return out;
  }
  void Error(const YAML::Node& n, const std::string& message) {
    problems_ += "line " + std::to_string(n.Mark().line + 1) + ": " + message + "\n";
  }
  void Keys(const YAML::Node& map, const std::string& where, const std::set<std::string>& allowed) {
    if (!map.IsMap()) {
      Error(map, where + " must be a mapping");
      return;
    }
    for (const auto& kv : map) {
      if (!allowed.count(kv.first.Scalar())) Error(kv.first, "unknown key '" + kv.first.Scalar() + "' in " + where);
    }
  }
  std::string Text(const YAML::Node& n) {
    if (!n.IsScalar()) {
      Error(n, "expected a text value");
      return {};
    }
    return n.Scalar();
  }
  codec::Format Format(const YAML::Node& n) {
    const std::string f = Text(n);
    if (f == "json") return codec::Format::kJson;
    if (f != "protobuf") Error(n, "format must be protobuf or json, not '" + f + "'");
    return codec::Format::kProtobuf;
  }
  // YAML 1.2 core booleans only: yaml-cpp would also take YAML 1.1's yes/no/on/off/y/n,
  // and a misspelling ("treu") must not quietly become false.
  bool Bool(const YAML::Node& n) {
    static const std::set<std::string> kTrue = {"true", "True", "TRUE"}, kFalse = {"false", "False", "FALSE"};
    // A quoted "true" is text, not a boolean (the tag of a plain scalar is "?").
    if (n.IsScalar() && n.Tag() == "?") {
      if (kTrue.count(n.Scalar())) return true;
      if (kFalse.count(n.Scalar())) return false;
    }
    Error(n, "expected true or false, not '" + (n.IsScalar() ? n.Scalar() : std::string("a collection")) + "'");
    return false;
  }
  long long Int(const YAML::Node& n, long long lo, long long hi) {
    try {
      long long v = n.as<long long>();
      if (v >= lo && v <= hi) return v;
    } catch (const YAML::Exception&) {
    }
    Error(n, "expected a whole number from " + std::to_string(lo) + " to " + std::to_string(hi));
    return lo;
  }
  int64_t DurationMs(const YAML::Node& n) {
    auto d = ParseDuration(Text(n), false);
    if (!d.ok()) {
      Error(n, d.status().message());
      return 0;
    }
    return d->ms;
  }
  std::string base_dir_;
  std::string problems_;
};

}  // namespace

Result<Config> LoadConfigFromString(std::string_view yaml, const std::string& base_dir) {
  try {
    return Loader(base_dir).Load(yaml);
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("the config could not be read: ") + e.what());
  }
}

Result<Config> LoadConfigFromFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::NotFound("cannot open config file '" + path + "'");
  std::stringstream buf;
  buf << in.rdbuf();
  auto c = LoadConfigFromString(buf.str(), std::filesystem::path(path).parent_path().string());
  if (!c.ok()) return Status::InvalidArgument(path + ":\n" + c.status().message());
  return c;
}

}  // namespace leadscore::config
