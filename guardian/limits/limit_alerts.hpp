#pragma once
// The alerts the limits component raises: MEMORY_CEILING_KILL for a tree killed at its
// memory ceiling, PERMISSION_ERROR when cgroupfs refused guardian (and it fell back).
#include <optional>
#include <string>

#include "guardian/alerts/alert.hpp"
#include "guardian/limits/limiter.hpp"

namespace guardian::limits {

alerts::AlertSpec ceiling_kill_alert(const Breach& breach, const std::string& unit, const std::string& command);

/// The alert for a limits warning event ("limits.permission_denied" …), if it deserves one.
std::optional<alerts::AlertSpec> limits_problem_alert(const std::string& event, const std::string& message);

}  // namespace guardian::limits
