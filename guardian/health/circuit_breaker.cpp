#include "guardian/health/circuit_breaker.hpp"

namespace guardian::health {

CircuitBreaker::CircuitBreaker(std::size_t max_failures, Milliseconds window)
    : max_failures_(max_failures), failures_(window) {}

bool CircuitBreaker::record_failure(TimePoint now) {
  if (failures_.record(now) > max_failures_ && !tripped_) {
    tripped_ = true;
    return true;
  }
  return false;
}

}  // namespace guardian::health
