// Status and Result<T>: errors as values at every boundary (model loading, decoding,
// files, later RocksDB and Kafka). A Status is cheap when ok. Thread-compatible.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace leadscore {

class [[nodiscard]] Status {
 public:
  enum class Code { kOk, kInvalidArgument, kNotFound, kIoError, kCorruption, kUnavailable };

  Status() = default;
  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string msg) { return {Code::kInvalidArgument, std::move(msg)}; }
  static Status NotFound(std::string msg) { return {Code::kNotFound, std::move(msg)}; }
  static Status IoError(std::string msg) { return {Code::kIoError, std::move(msg)}; }
  static Status Corruption(std::string msg) { return {Code::kCorruption, std::move(msg)}; }
  static Status Unavailable(std::string msg) { return {Code::kUnavailable, std::move(msg)}; }

  // A reason of the module that made the error (one of its enums), carried with it so
  // callers branch on a value and never parse the message. 0 when none was given.
  template <typename Enum>
  Status WithReason(Enum reason) && {
    reason_ = static_cast<int>(reason);
    return std::move(*this);
  }
  template <typename Enum>
  Enum reason() const {
    return static_cast<Enum>(reason_);
  }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string ToString() const { return ok() ? "OK" : message_; }

 private:
  Status(Code code, std::string msg) : code_(code), message_(std::move(msg)) {}
  Code code_ = Code::kOk;
  int reason_ = 0;
  std::string message_;
};

// Either a value or the Status saying why not.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}          // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {}   // NOLINT: implicit by design

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace leadscore

#define LEADSCORE_RETURN_IF_ERROR(expr)        \
  do {                                         \
    ::leadscore::Status _st = (expr);          \
    if (!_st.ok()) return _st;                 \
  } while (0)
