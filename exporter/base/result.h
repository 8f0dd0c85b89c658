// The one way a function reports a failure the environment can cause (a refused socket, a
// taken port, an unreadable file, an API that does not answer): it returns its value or a
// message, and never throws. The message is one line naming the cause and, where there is
// one, the fix; callers log it (rate-limited) and show it in a metric. docs/architecture.md,
// "Errors", lists the other three kinds (bad start-up configuration, partial parses, broken
// invariants) and how each is reported.
#pragma once

#include <optional>
#include <string>
#include <utility>

namespace podpath::base {

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: success converts implicitly
  static Result failure(std::string message) {
    Result r;
    r.error_ = std::move(message);
    return r;
  }

  bool ok() const { return value_.has_value(); }
  explicit operator bool() const { return ok(); }
  T& value() { return *value_; }
  const T& value() const { return *value_; }
  T& operator*() { return *value_; }
  const T& operator*() const { return *value_; }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  // Empty on success.
  const std::string& error() const { return error_; }

 private:
  Result() = default;
  std::optional<T> value_;
  std::string error_;
};

// A Result without a value.
class [[nodiscard]] Status {
 public:
  static Status success() { return Status(); }
  static Status failure(std::string message) {
    Status s;
    s.error_ = std::move(message);
    return s;
  }
  bool ok() const { return error_.empty(); }
  explicit operator bool() const { return ok(); }
  const std::string& error() const { return error_; }

 private:
  std::string error_;
};

}  // namespace podpath::base
