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

class Sampler {
 public:
  using TreeSource = std::function<limits::TreeUsage()>;
  Sampler(TreeSource tree, SamplerOptions options);

  Snapshot sample(SteadyTime now, WallTime wall, Level level);

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
};

}  // namespace guardian::monitor
