#include "guardian/health/startup_schedule.hpp"

#include <algorithm>

namespace guardian::health {

using namespace std::chrono_literals;

std::vector<StartupSchedule::Milliseconds> StartupSchedule::default_timeouts() {
  return {90s, 120s, 180s, 240s};
}

StartupSchedule::StartupSchedule(std::vector<Milliseconds> timeouts) : timeouts_(std::move(timeouts)) {
  if (timeouts_.empty()) timeouts_ = default_timeouts();
}

StartupSchedule::Milliseconds StartupSchedule::current() const {
  return timeouts_[std::min(failed_, timeouts_.size() - 1)];
}

}  // namespace guardian::health
