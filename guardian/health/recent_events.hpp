#pragma once
// Counts events within a sliding time window (failed starts for the circuit breaker, downs for
// the flap detector): record one, and older ones drop out.
#include <chrono>
#include <cstddef>
#include <deque>

namespace guardian::health {

class RecentEvents {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  using Milliseconds = std::chrono::milliseconds;

  explicit RecentEvents(Milliseconds window) : window_(window) {}

  /// Records an event at `now`; returns how many fall within the window ending at `now`.
  std::size_t record(TimePoint now) {
    times_.push_back(now);
    while (now - times_.front() > window_) times_.pop_front();
    return times_.size();
  }
  void clear() { times_.clear(); }
  /// Events within the window as of the last record().
  std::size_t count() const { return times_.size(); }
  Milliseconds window() const { return window_; }

 private:
  Milliseconds window_;
  std::deque<TimePoint> times_;
};

}  // namespace guardian::health
