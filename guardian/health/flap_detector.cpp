#include "guardian/health/flap_detector.hpp"

namespace guardian::health {

FlapDetector::FlapDetector(unsigned downs, Milliseconds window) : threshold_(downs), downs_(window) {}

FlapDetector::Down FlapDetector::record_down(TimePoint now) {
  if (flapping_) {
    ++downs_in_phase_;
    return Down::while_flapping;
  }
  const std::size_t recent = downs_.record(now);
  if (threshold_ == 0 || recent < threshold_) return Down::single;
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
