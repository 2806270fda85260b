#pragma once
// Gives up on a crash-looping server: more than K failed starts within a sliding window
// trips it for good. A successful start clears the count.
#include <chrono>
#include <cstddef>

#include "guardian/health/recent_events.hpp"

namespace guardian::health {

class CircuitBreaker {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  using Milliseconds = std::chrono::milliseconds;

  CircuitBreaker(std::size_t max_failures, Milliseconds window);

  /// Records a failed start at `now`; returns true when this one trips the breaker.
  bool record_failure(TimePoint now);
  void reset() { failures_.clear(); }
  bool tripped() const { return tripped_; }
  /// Failed starts within the window as of the last record_failure.
  std::size_t recent_failures() const { return failures_.count(); }
  std::size_t max_failures() const { return max_failures_; }
  Milliseconds window() const { return failures_.window(); }

 private:
  std::size_t max_failures_;
  RecentEvents failures_;
  bool tripped_ = false;
};

}  // namespace guardian::health
