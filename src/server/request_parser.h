// Internal to the HTTP server: Beast's parser for one request, keeping only what the
// router needs and refusing a request past its limits while it arrives. Beast's own
// request_parser bounds the header bytes but not the field count, and stores every
// field; this one counts them and stores one. Not thread-safe: one per connection.
#pragma once

#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <cstddef>
#include <string>

#include "server/router.h"

namespace leadscore::server {

class RequestParser : public boost::beast::http::basic_parser<true> {
 public:
  RequestParser(size_t max_header_bytes, int max_header_count, size_t max_body_bytes)
      : max_header_count_(max_header_count), max_body_bytes_(max_body_bytes) {
    header_limit(static_cast<std::uint32_t>(max_header_bytes));
    body_limit(max_body_bytes);
  }

  Request& request() { return request_; }
  const std::string& target() const { return target_; }
  int version() const { return version_; }
  // The client waits for "100 Continue" before it sends the body (curl does for bodies
  // over 1 KiB).
  bool expects_continue() const { return expects_continue_; }

 private:
  using error_code = boost::beast::error_code;
  using string_view = boost::beast::string_view;

  void on_request_impl(boost::beast::http::verb, string_view method, string_view target, int version,
                       error_code&) override {
    request_.method.assign(method.data(), method.size());
    target_.assign(target.data(), target.size());
    version_ = version;
  }
  void on_response_impl(int, string_view, int, error_code&) override {}
  void on_field_impl(boost::beast::http::field name, string_view, string_view value, error_code& ec) override {
    // Reported as Beast reports too many header bytes: both answer 431.
    if (++fields_ > max_header_count_) {
      ec = boost::beast::http::error::header_limit;
      return;
    }
    if (name == boost::beast::http::field::authorization) request_.authorization.assign(value.data(), value.size());
    if (name == boost::beast::http::field::expect && boost::beast::iequals(value, "100-continue")) expects_continue_ = true;
  }
  void on_header_impl(error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>& length, error_code&) override {
    // Beast has already refused a Content-Length over the body limit.
    if (length) request_.body.reserve(static_cast<size_t>(*length));
  }
  size_t on_body_impl(string_view body, error_code& ec) override { return Append(body, ec); }
  void on_chunk_header_impl(std::uint64_t, string_view, error_code&) override {}
  size_t on_chunk_body_impl(std::uint64_t, string_view body, error_code& ec) override { return Append(body, ec); }
  void on_finish_impl(error_code&) override {}

  size_t Append(string_view body, error_code& ec) {
    // Beast bounds the body too; this keeps the bound visible where bytes are kept.
    if (request_.body.size() + body.size() > max_body_bytes_) {
      ec = boost::beast::http::error::body_limit;
      return 0;
    }
    request_.body.append(body.data(), body.size());
    return body.size();
  }

  const int max_header_count_;
  const size_t max_body_bytes_;
  int fields_ = 0;
  bool expects_continue_ = false;
  int version_ = 11;
  std::string target_;
  Request request_;
};

}  // namespace leadscore::server
