#include "guardian/health/restart_policy.hpp"

#include <algorithm>

namespace guardian::health {

std::string_view to_string(RestartPolicy policy) {
  switch (policy) {
    case RestartPolicy::always: return "always";
    case RestartPolicy::on_failure: return "on-failure";
    case RestartPolicy::never: return "never";
  }
  return "always";
}

std::optional<RestartPolicy> parse_restart_policy(std::string_view text) {
  if (text == "always") return RestartPolicy::always;
  if (text == "on-failure") return RestartPolicy::on_failure;
  if (text == "never") return RestartPolicy::never;
  return std::nullopt;
}

bool should_restart(RestartPolicy policy, bool clean_exit) {
  switch (policy) {
    case RestartPolicy::always: return true;
    case RestartPolicy::on_failure: return !clean_exit;
    case RestartPolicy::never: return false;
  }
  return false;
}

RestartBackoff::RestartBackoff(Milliseconds first_delay, Milliseconds cap, Milliseconds stable_uptime)
    : first_delay_(first_delay), cap_(std::max(cap, first_delay)), stable_uptime_(stable_uptime) {}

RestartBackoff::Milliseconds RestartBackoff::next_delay(std::optional<Milliseconds> uptime) {
  if (uptime && *uptime >= stable_uptime_) streak_ = 0;
  Milliseconds delay = first_delay_;
  // Doubling stops at the cap; the loop bound keeps the arithmetic far from overflow.
  for (unsigned i = 0; i < streak_ && delay < cap_; ++i) delay *= 2;
  ++streak_;
  return std::min(delay, cap_);
}

}  // namespace guardian::health
