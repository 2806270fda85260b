#pragma once
// Sampler: takes one Snapshot — the tree through the Limiter's sample() (with cgroup v2 a
// handful of file reads whatever the tree's size), the host from /proc/stat, /proc/meminfo
// and /proc/pressure, the watched disks from statvfs — and turns cumulative counters into
// rates against the previous sample. Percentages are of the ceiling the backend enforces,
// or of the whole machine when it enforces none.
#include <filesystem>
#include <functional>
#include <optional>
#include <vector>

#include "guardian/limits/limiter.hpp"
#include "guardian/monitor/host_stats.hpp"
#include "guardian/monitor/progressive_monitor.hpp"
#include "guardian/monitor/snapshot.hpp"

namespace guardian::monitor {

struct SamplerOptions {
  std::vector<std::filesystem::path> disks;  // filesystems to watch (a path on each)
  std::filesystem::path proc_root = "/proc";
  std::optional<double> machine_cores;       // default: CPUs guardian may run on
  bool host_pressure = true;                 // read /proc/pressure/* when the tree has no PSI of its own
};

/// The tree in % of its ceilings, from one sample of it (what the thresholds watch).
struct TreeReading {
  std::optional<double> cpu_percent_of_ceiling;  // empty for the first sample (no rate yet)
  std::optional<double> memory_percent_of_ceiling;
};

class Sampler {
 public:
  using TreeSource = std::function<limits::TreeUsage()>;
  Sampler(TreeSource tree, SamplerOptions options);

  Snapshot sample(SteadyTime now, WallTime wall, Level level);
  /// A sample the limiter took on its own (Limiter::on_sample), as a reading: its CPU rate is
  /// over the time since the previous such sample, not since the previous snapshot.
  TreeReading read(const limits::TreeUsage& usage, SteadyTime now);

  const HostReader& host() const { return host_; }

 private:
  TreeSource tree_;
  SamplerOptions options_;
  HostReader host_;
  double machine_cores_;
  std::optional<std::uint64_t> machine_memory_bytes_;
  std::optional<std::uint64_t> last_cpu_usec_;
  std::optional<SteadyTime> last_time_;
  std::optional<CpuTimes> last_host_cpu_;
  std::optional<std::uint64_t> last_read_cpu_usec_;
  std::optional<SteadyTime> last_read_time_;

  double cpu_ceiling_of(const limits::TreeUsage& usage) const { return usage.cpu_ceiling_cores.value_or(machine_cores_); }
  std::uint64_t memory_ceiling_of(const limits::TreeUsage& usage) const {
    return usage.memory_ceiling_bytes.value_or(machine_memory_bytes_.value_or(0));
  }
};

}  // namespace guardian::monitor
