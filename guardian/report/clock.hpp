#pragma once
// Wall-clock timestamps as they appear in logs and reports: ISO 8601 with the zone offset.
#include <chrono>
#include <string>

namespace guardian::report {

using WallTime = std::chrono::system_clock::time_point;

/// "2026-11-22T20:54:00.123+00:00" in the local zone.
std::string iso8601(WallTime time);
/// "20261122T205400Z" (UTC), for run ids and file names.
std::string compact_utc(WallTime time);

}  // namespace guardian::report
