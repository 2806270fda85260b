#pragma once
// The whole run's use as the monitor sees it: the command's tree and every server's, each
// sampled through its own limiter, added up.
#include <vector>

#include "guardian/limits/limiter.hpp"

namespace guardian::session {

/// Counters and gauges are summed. The ceilings are the largest of the parts': under cgroup
/// v2 the units share the run's ceilings, under the watchdog each unit has the same ones of
/// its own, so a server at its CPU ceiling reads as the run at its ceiling. An exact peak
/// only survives for a single part.
limits::TreeUsage sum_usage(const std::vector<limits::TreeUsage>& parts);

}  // namespace guardian::session
