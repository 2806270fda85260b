#include "guardian/health/circuit_breaker.hpp"

namespace guardian::health {

CircuitBreaker::CircuitBreaker(std::size_t max_failures, Milliseconds window)
    : max_failures_(max_failures), window_(window) {}

bool CircuitBreaker::record_failure(TimePoint now) {
  failures_.push_back(now);
  while (!failures_.empty() && now - failures_.front() > window_) failures_.pop_front();
  if (!tripped_ && failures_.size() > max_failures_) {
    tripped_ = true;
    return true;
  }
  return false;
}

}  // namespace guardian::health
