#pragma once
// The cpu controller of one cgroup: its ceiling (cpu.max) and its accounting (cpu.stat).
#include <cstdint>
#include <optional>
#include <string_view>

#include "guardian/limits/cgroup_fs.hpp"

namespace guardian::limits::cpu {

struct Stat {
  std::uint64_t usage_usec = 0;
  std::uint64_t user_usec = 0;
  std::uint64_t system_usec = 0;
  std::uint64_t nr_periods = 0;
  std::uint64_t nr_throttled = 0;
  std::uint64_t throttled_usec = 0;
};

/// Stat from the text of cpu.stat (throttling fields stay 0 without the cpu controller).
Stat parse_stat(std::string_view text);
Result<Stat> read_stat(const CgroupFs& fs, std::string_view dir);
/// Writes cpu.max for a ceiling of `cores` (empty: unlimited).
Status set_max(const CgroupFs& fs, std::string_view dir, std::optional<double> cores,
               std::uint64_t period_usec = 100000);

}  // namespace guardian::limits::cpu
