#include "guardian/limits/memory_throttle.hpp"

namespace guardian::limits {

bool MemoryThrottleWatch::update(const Reading& reading) {
  bool tick_throttled = false;
  if (last_ && reading.at > last_->at) {
    const bool high_rose = reading.high_events > last_->high_events;
    bool stalled = true;
    if (reading.full_stall_usec && last_->full_stall_usec) {
      auto elapsed_usec = std::chrono::duration_cast<std::chrono::microseconds>(reading.at - last_->at).count();
      auto stall_usec = static_cast<double>(*reading.full_stall_usec - *last_->full_stall_usec);
      stalled = stall_usec >= kStalledShare * static_cast<double>(elapsed_usec);
    }
    tick_throttled = high_rose && stalled;
    if (!tick_throttled) streak_start_.reset();
    else if (!streak_start_) streak_start_ = last_->at;  // it was already throttled during the tick
  }
  last_ = reading;
  last_at_ = reading.at;
  return tick_throttled && throttled() >= window_;
}

std::chrono::milliseconds MemoryThrottleWatch::throttled() const {
  if (!streak_start_) return std::chrono::milliseconds(0);
  return std::chrono::duration_cast<std::chrono::milliseconds>(last_at_ - *streak_start_);
}

}  // namespace guardian::limits
