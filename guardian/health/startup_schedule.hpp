#pragma once
// The startup timeout of each attempt to bring a server up: it grows per failed attempt
// (90 s, 120 s, 180 s, 240 s by default), stays at the last value after that, and starts
// over after every successful start.
#include <chrono>
#include <cstddef>
#include <vector>

namespace guardian::health {

class StartupSchedule {
 public:
  using Milliseconds = std::chrono::milliseconds;
  static std::vector<Milliseconds> default_timeouts();

  /// `timeouts` must not be empty (the config schema guarantees it); empty means the defaults.
  explicit StartupSchedule(std::vector<Milliseconds> timeouts = default_timeouts());

  /// The timeout of the attempt about to be made.
  Milliseconds current() const;
  /// Failed attempts since the last successful start.
  std::size_t failed_attempts() const { return failed_; }
  /// A failed attempt: the next one gets the next timeout.
  void record_failure() { ++failed_; }
  /// A successful start: back to the first timeout.
  void reset() { failed_ = 0; }
  const std::vector<Milliseconds>& timeouts() const { return timeouts_; }

 private:
  std::vector<Milliseconds> timeouts_;
  std::size_t failed_ = 0;
};

}  // namespace guardian::health
