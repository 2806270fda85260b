#include "guardian/limits/memory_throttle.hpp"

namespace guardian::limits {

bool MemoryThrottleWatch::update(const Reading& reading) {
  last_at_ = reading.at;
  if (!reading.over_high) {
    recent_.clear();
    streak_start_.reset();
    return false;
  }
  if (!streak_start_) streak_start_ = reading.at;
  recent_.push_back(reading);
  if (throttled() < window_) return false;
  // The newest reading at least a full window back: judge the stall over [it, now].
  while (recent_.size() > 2 && reading.at - recent_[1].at >= window_) recent_.pop_front();
  const Reading& from = recent_.front();
  if (!reading.full_stall_usec || !from.full_stall_usec) return true;  // no PSI: over high for the window
  auto elapsed_usec = std::chrono::duration_cast<std::chrono::microseconds>(reading.at - from.at).count();
  auto stall_usec = static_cast<double>(*reading.full_stall_usec - *from.full_stall_usec);
  return elapsed_usec > 0 && stall_usec >= kStalledShare * static_cast<double>(elapsed_usec);
}

std::chrono::milliseconds MemoryThrottleWatch::throttled() const {
  if (!streak_start_ || !last_at_) return std::chrono::milliseconds(0);
  return std::chrono::duration_cast<std::chrono::milliseconds>(*last_at_ - *streak_start_);
}

}  // namespace guardian::limits
