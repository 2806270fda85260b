#pragma once
// The pids controller of one cgroup: the task ceiling (pids.max) and its accounting.
#include <cstdint>
#include <optional>
#include <string_view>

#include "guardian/limits/cgroup_fs.hpp"

namespace guardian::limits::pids {

Status set_max(const CgroupFs& fs, std::string_view dir, std::optional<std::uint64_t> max_tasks);

struct Stat {
  std::uint64_t current = 0;
  std::optional<std::uint64_t> peak;  // pids.peak (Linux 6.1+)
  std::uint64_t refused_forks = 0;    // pids.events "max": forks refused at the ceiling
};
Stat read_stat(const CgroupFs& fs, std::string_view dir);

}  // namespace guardian::limits::pids
