#include "guardian/health/flap_detector.hpp"

namespace guardian::health {

FlapDetector::FlapDetector(unsigned downs, Milliseconds window) : threshold_(downs), window_(window) {}

FlapDetector::Down FlapDetector::record_down(TimePoint now) {
  if (flapping_) {
    ++downs_in_phase_;
    return Down::while_flapping;
  }
  downs_.push_back(now);
  while (!downs_.empty() && now - downs_.front() > window_) downs_.pop_front();
  if (threshold_ == 0 || downs_.size() < threshold_) return Down::single;
  flapping_ = true;
  downs_in_phase_ = 1;
  return Down::starts_flapping;
}

void FlapDetector::end() {
  flapping_ = false;
  downs_in_phase_ = 0;
  downs_.clear();
}

}  // namespace guardian::health
