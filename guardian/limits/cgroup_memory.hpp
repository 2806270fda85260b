#pragma once
// The memory controller of one cgroup: ceilings (memory.max, memory.high, memory.swap.max,
// memory.oom.group) and what happened (memory.events, memory.current, memory.peak).
#include <cstdint>
#include <optional>
#include <string_view>

#include "guardian/limits/cgroup_fs.hpp"

namespace guardian::limits::memory {

struct Settings {
  std::optional<std::uint64_t> max_bytes;       // hard ceiling: OOM kill above it
  std::optional<std::uint64_t> high_bytes;      // soft ceiling: reclaim and throttle above it
  std::optional<std::uint64_t> swap_max_bytes;  // 0: a breach cannot hide in swap
  bool oom_group = true;                        // an OOM kill takes the whole cgroup
};

/// Writes the settings. memory.swap.max is skipped when the kernel has no swap accounting.
Status apply(const CgroupFs& fs, std::string_view dir, const Settings& settings);

struct Events {
  std::uint64_t high = 0;
  std::uint64_t max = 0;
  std::uint64_t oom = 0;
  std::uint64_t oom_kill = 0;
  std::uint64_t oom_group_kill = 0;
};
Events parse_events(std::string_view text);
Result<Events> read_events(const CgroupFs& fs, std::string_view dir);

Result<std::uint64_t> read_current(const CgroupFs& fs, std::string_view dir);
/// memory.high; empty when it is "max" or unreadable.
std::optional<std::uint64_t> read_high(const CgroupFs& fs, std::string_view dir);
/// memory.peak (Linux 5.19+); empty when the kernel does not have it.
std::optional<std::uint64_t> read_peak(const CgroupFs& fs, std::string_view dir);

}  // namespace guardian::limits::memory
