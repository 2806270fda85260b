#pragma once
// Ceilings never above the limits guardian was started inside: a user service's MemoryMax, a
// container's or an admin's slice. An explicit `--memory 600M` in a 100M service would
// otherwise promise what the enclosing cgroup never grants — and where guardian runs beside
// its caller (its own systemd scope), that limit would no longer hold the run at all.
#include <optional>
#include <string>

#include "guardian/limits/ceilings.hpp"
#include "guardian/limits/cgroup_probe.hpp"

namespace guardian::limits {

/// Lowers `ceilings` to the probe's enclosing memory and cpu limits; returns the one line that
/// says what was lowered (nothing when nothing was).
std::optional<std::string> cap_to_enclosing(Ceilings& ceilings, const CgroupProbe& caller);

}  // namespace guardian::limits
