#pragma once
// The text formats of cgroup v2 files (and of /proc/self/cgroup), parsed and printed
// without touching the filesystem, so they are unit-tested on real kernel output.
#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace guardian::limits {

/// "cpu memory pids\n" (cgroup.controllers, cgroup.subtree_control) -> {"cpu", "memory", "pids"}.
std::vector<std::string> parse_controllers(std::string_view text);

/// Flat keyed files: "populated 1\nfrozen 0\n" (cgroup.events, memory.events, cpu.stat,
/// pids.events, memory.stat). Lines that do not parse are skipped.
std::map<std::string, std::uint64_t> parse_flat_keyed(std::string_view text);

/// A single value that may be "max": memory.max, memory.high, pids.max, memory.peak …
struct MaxValue {
  std::optional<std::uint64_t> value;  // empty: "max" (unlimited)
};
std::optional<MaxValue> parse_max_value(std::string_view text);
std::string format_max_value(std::optional<std::uint64_t> value);

/// cpu.max: "$MAX $PERIOD" where $MAX is "max" or a quota in microseconds.
struct CpuMax {
  std::optional<std::uint64_t> quota_usec;  // empty: unlimited
  std::uint64_t period_usec = 100000;
  std::optional<double> cores() const;
};
std::optional<CpuMax> parse_cpu_max(std::string_view text);
/// The cpu.max line for a ceiling of `cores` (empty: "max"), e.g. 1.5 -> "150000 100000".
std::string format_cpu_max(std::optional<double> cores, std::uint64_t period_usec = 100000);

/// The cgroup v2 path of a process: the "0::/path" line of /proc/<pid>/cgroup.
std::optional<std::string> parse_unified_cgroup_path(std::string_view proc_cgroup_text);
/// The v1 path of a controller ("memory") from /proc/<pid>/cgroup ("4:memory:/a/b").
std::optional<std::string> parse_v1_cgroup_path(std::string_view proc_cgroup_text, std::string_view controller);

/// cgroup.procs / cgroup.threads: one id per line.
std::vector<pid_t> parse_pid_list(std::string_view text);

/// PSI files (memory.pressure, cpu.pressure): the "some" and "full" lines.
struct Pressure {
  double some_avg10 = 0, some_avg60 = 0;
  std::uint64_t some_total_usec = 0;
  double full_avg10 = 0, full_avg60 = 0;
  std::uint64_t full_total_usec = 0;
};
std::optional<Pressure> parse_pressure(std::string_view text);

}  // namespace guardian::limits
