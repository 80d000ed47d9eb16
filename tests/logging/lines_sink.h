// A spdlog sink keeping the formatted lines, for tests that check what was logged.
// Thread-safe: written on any thread (librdkafka's, the workers'), read on the test's.
#pragma once

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <mutex>
#include <string>
#include <vector>

namespace leadscore::testing {

class LinesSink : public spdlog::sinks::base_sink<std::mutex> {
 public:
  std::vector<std::string> Lines() {
    std::lock_guard lock(mutex_);
    return lines_;
  }
  size_t Count(const std::string& part) {
    const auto lines = Lines();
    return std::count_if(lines.begin(), lines.end(), [&](const std::string& l) { return l.find(part) != l.npos; });
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t buf;
    formatter_->format(msg, buf);
    lines_.emplace_back(buf.data(), buf.size());
  }
  void flush_() override {}

 private:
  std::vector<std::string> lines_;
};

// While it lives, the default logger writes into `sink` (and not to stderr).
class CaptureDefaultLogger {
 public:
  explicit CaptureDefaultLogger(std::shared_ptr<LinesSink> sink) : before_(spdlog::default_logger()) {
    auto logger = std::make_shared<spdlog::logger>(before_->name(), std::move(sink));
    logger->set_level(spdlog::level::info);
    spdlog::set_default_logger(logger);
  }
  ~CaptureDefaultLogger() { spdlog::set_default_logger(before_); }

 private:
  std::shared_ptr<spdlog::logger> before_;
};

}  // namespace leadscore::testing
