#pragma once
// The outcome of an OS-facing limits operation: a value, or an Error whose message already
// names the operation, the file and (where there is one) what to do about it.
#include <cerrno>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <variant>

namespace guardian::limits {

struct Error {
  std::error_code code;
  std::string message;  // "writing 'max 100000' to /sys/fs/cgroup/x/cpu.max: Permission denied"

  /// EACCES, EPERM or EROFS: the fix is delegation or privileges, not a retry.
  bool permission_denied() const {
    return code == std::errc::permission_denied || code == std::errc::operation_not_permitted ||
           code == std::errc::read_only_file_system;
  }
};

/// Empty on success.
using Status = std::optional<Error>;

template <typename T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit on purpose, like expected
  Result(Error error) : value_(std::move(error)) {}  // NOLINT

  bool ok() const { return value_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() { return std::get<0>(value_); }
  const T& value() const { return std::get<0>(value_); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const { return std::get<1>(value_); }
  T value_or(T fallback) const { return ok() ? value() : std::move(fallback); }

 private:
  std::variant<T, Error> value_;
};

}  // namespace guardian::limits
