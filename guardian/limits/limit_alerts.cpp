#include "guardian/limits/limit_alerts.hpp"

#include <fmt/format.h>

namespace guardian::limits {

alerts::AlertSpec ceiling_kill_alert(const Breach& breach, const std::string& unit, const std::string& command) {
  alerts::AlertSpec spec;
  const bool memory = breach.kind == Breach::Kind::memory_ceiling;
  spec.type = memory ? alerts::AlertType::memory_ceiling_kill : alerts::AlertType::critical;
  spec.subject = unit;
  spec.title = fmt::format("'{}' killed at its {} ceiling", command, memory ? "memory" : "pids");
  spec.message = breach.message;
  spec.source = "limits";
  spec.context = breach.to_json();
  return spec;
}

std::optional<alerts::AlertSpec> limits_problem_alert(const std::string& event, const std::string& message) {
  if (event != "limits.permission_denied") return std::nullopt;
  alerts::AlertSpec spec;
  spec.type = alerts::AlertType::permission_error;
  spec.subject = "cgroup";
  spec.title = "cgroup v2 refused guardian: ceilings fall back to the watchdog";
  spec.message = message;
  spec.source = "limits";
  spec.context = {{"event", event}};
  return spec;
}

}  // namespace guardian::limits
