// The project's one error model: a Result<T> holds a value or an Error carrying errno and
// the context it happened in (map name, operation, event index and field, ...). Exceptions
// are reserved for conditions the process cannot go on from.
#pragma once

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>
#include <variant>

namespace sixguard {

struct Error {
  int code = 0;         // errno-style (positive), 0 when no errno applies
  std::string message;  // what failed, with its context; no trailing period

  // "message: strerror(code)" or just message when code is 0.
  std::string describe() const {
    if (code == 0) return message;
    return message + ": " + std::strerror(code);
  }
};

inline Error make_error(std::string message, int code = 0) {
  return Error{code, std::move(message)};
}
// Captures errno at the call site.
inline Error errno_error(std::string message) {
  return Error{errno, std::move(message)};
}

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : storage_(std::move(value)) {}
  Result(Error error) : storage_(std::move(error)) {}

  bool ok() const { return storage_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T &value() & { return std::get<0>(storage_); }
  const T &value() const & { return std::get<0>(storage_); }
  T &&value() && { return std::get<0>(std::move(storage_)); }
  T &operator*() & { return value(); }
  const T &operator*() const & { return value(); }
  T *operator->() { return &value(); }
  const T *operator->() const { return &value(); }

  const Error &error() const { return std::get<1>(storage_); }

 private:
  std::variant<T, Error> storage_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error &error() const { return error_; }

 private:
  Error error_;
  bool ok_ = true;
};

using Status = Result<void>;

}  // namespace sixguard
