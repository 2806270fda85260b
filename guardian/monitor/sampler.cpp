#include "guardian/monitor/sampler.hpp"

namespace guardian::monitor {

Sampler::Sampler(TreeSource tree, SamplerOptions options)
    : tree_(std::move(tree)),
      options_(std::move(options)),
      host_(options_.proc_root),
      machine_cores_(options_.machine_cores.value_or(machine_cores())) {}

Snapshot Sampler::sample(SteadyTime now, WallTime wall, Level level) {
  Snapshot s;
  s.time = wall;
  s.steady_time = now;
  s.level = level;

  limits::TreeUsage usage = tree_();
  s.processes = usage.processes;
  s.threads = usage.threads;
  s.memory_bytes = usage.memory_bytes;
  s.memory_peak_bytes = usage.memory_peak_bytes;
  s.open_fds = usage.open_fds;
  s.io_read_bytes = usage.io_read_bytes;
  s.io_write_bytes = usage.io_write_bytes;

  auto host_memory = host_.memory();
  if (host_memory) {
    s.host_memory_available_bytes = host_memory->available_bytes;
    s.host_memory_total_bytes = host_memory->total_bytes;
    if (!machine_memory_bytes_) machine_memory_bytes_ = host_memory->total_bytes;
  }

  bool enforced = usage.cpu_ceiling_cores || usage.memory_ceiling_bytes;
  s.ceiling_source = enforced ? "limiter" : "machine";
  s.cpu_ceiling_cores = cpu_ceiling_of(usage);
  s.memory_ceiling_bytes = memory_ceiling_of(usage);
  if (s.memory_ceiling_bytes > 0)
    s.memory_percent_of_ceiling = 100.0 * static_cast<double>(s.memory_bytes) / static_cast<double>(s.memory_ceiling_bytes);

  if (last_cpu_usec_ && last_time_ && now > *last_time_) {
    auto elapsed_usec = std::chrono::duration_cast<std::chrono::microseconds>(now - *last_time_).count();
    // The process-tree backend sums the live processes only: when one ends its CPU leaves
    // the sum, so a drop means "no measurable use", not negative use.
    double used_usec = usage.cpu_usec >= *last_cpu_usec_ ? static_cast<double>(usage.cpu_usec - *last_cpu_usec_) : 0.0;
    s.cpu_percent_of_core = 100.0 * used_usec / static_cast<double>(elapsed_usec);
    if (s.cpu_ceiling_cores > 0) s.cpu_percent_of_ceiling = *s.cpu_percent_of_core / s.cpu_ceiling_cores;
  }
  last_cpu_usec_ = usage.cpu_usec;
  last_time_ = now;

  if (auto host_cpu = host_.cpu()) {
    if (last_host_cpu_) s.host_cpu_percent = cpu_busy_percent(*last_host_cpu_, *host_cpu);
    last_host_cpu_ = host_cpu;
  }

  if (usage.cpu_pressure || usage.memory_pressure || usage.io_pressure) {
    s.psi_scope = "tree";
    s.psi_cpu = usage.cpu_pressure;
    s.psi_memory = usage.memory_pressure;
    s.psi_io = usage.io_pressure;
  } else if (options_.host_pressure) {
    s.psi_cpu = host_.pressure("cpu");
    s.psi_memory = host_.pressure("memory");
    s.psi_io = host_.pressure("io");
    if (s.psi_cpu || s.psi_memory || s.psi_io) s.psi_scope = "host";
    else options_.host_pressure = false;  // the kernel has no PSI: stop asking
  }

  for (const auto& path : options_.disks) {
    std::error_code error;
    if (auto disk = disk_usage(path, error)) s.disks.push_back(std::move(*disk));
  }
  return s;
}

TreeReading Sampler::read(const limits::TreeUsage& usage, SteadyTime now) {
  TreeReading reading;
  if (!machine_memory_bytes_ && !usage.memory_ceiling_bytes)
    if (auto host_memory = host_.memory()) machine_memory_bytes_ = host_memory->total_bytes;
  if (const auto ceiling = memory_ceiling_of(usage); ceiling > 0)
    reading.memory_percent_of_ceiling = 100.0 * static_cast<double>(usage.memory_bytes) / static_cast<double>(ceiling);
  const double cores = cpu_ceiling_of(usage);
  if (last_read_cpu_usec_ && last_read_time_ && now > *last_read_time_ && cores > 0) {
    const auto elapsed_usec = std::chrono::duration_cast<std::chrono::microseconds>(now - *last_read_time_).count();
    const double used_usec =
        usage.cpu_usec >= *last_read_cpu_usec_ ? static_cast<double>(usage.cpu_usec - *last_read_cpu_usec_) : 0.0;
    reading.cpu_percent_of_ceiling = 100.0 * used_usec / static_cast<double>(elapsed_usec) / cores;
  }
  last_read_cpu_usec_ = usage.cpu_usec;
  last_read_time_ = now;
  return reading;
}

}  // namespace guardian::monitor
