#pragma once
// CgroupUsageReader: what every check reads from one unit's cgroup — cpu.stat (the unit's
// and the tree node's), memory.current and memory.peak, cgroup.procs, pids.current (or
// cgroup.threads), the three *.pressure files — through files kept open between checks, so
// a sample with cgroup v2 is a handful of preads whatever the tree's size.
#include <cstddef>
#include <optional>
#include <string>

#include "guardian/limits/cgroup_fs.hpp"
#include "guardian/limits/limiter.hpp"
#include "guardian/process/kept_open_file.hpp"

namespace guardian::limits {

class CgroupUsageReader {
 public:
  /// `memory` and `pids`: whether those controllers are enabled for the unit.
  CgroupUsageReader(const CgroupFs& fs, const std::string& unit_dir, const std::string& tree_dir, bool memory,
                    bool pids);

  /// Fills the counters of `usage` (not its ceilings). Processes are counted in the unit's
  /// own cgroup.procs; returns false when the unit has child cgroups of its own, whose
  /// processes the caller must add.
  bool read(TreeUsage& usage);

 private:
  std::optional<std::string_view> text(process::KeptOpenFile& file);
  std::optional<TreeUsage::Pressure> pressure(process::KeptOpenFile& file);

  bool memory_;
  bool pids_;
  process::KeptOpenFile unit_cpu_stat_;
  process::KeptOpenFile tree_cpu_stat_;  // throttling is counted where cpu.max is
  process::KeptOpenFile memory_current_;
  process::KeptOpenFile memory_peak_;
  process::KeptOpenFile procs_;
  process::KeptOpenFile cgroup_stat_;    // nr_descendants: whether there are cgroups below
  process::KeptOpenFile tasks_;          // pids.current, or cgroup.threads without pids
  process::KeptOpenFile cpu_pressure_;
  process::KeptOpenFile memory_pressure_;
  process::KeptOpenFile io_pressure_;
  char buffer_[4096];
  std::string overflow_;
};

}  // namespace guardian::limits
