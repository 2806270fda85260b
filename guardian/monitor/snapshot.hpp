#pragma once
// Snapshot: what one check of the monitor saw — the tree's CPU, memory, processes, threads,
// open files and IO against its ceiling, the watched disks, and the host's CPU, memory
// and pressure — and its JSON form (events, the status API, the report).
#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "guardian/monitor/host_stats.hpp"
#include "guardian/monitor/level.hpp"

namespace guardian::monitor {

using WallTime = std::chrono::system_clock::time_point;

struct Snapshot {
  WallTime time{};
  std::chrono::steady_clock::time_point steady_time{};  // for rates; not serialised
  Level level = Level::normal;

  // The supervised tree.
  std::optional<double> cpu_percent_of_core;     // 100 = one core busy; empty on the first check
  std::optional<double> cpu_percent_of_ceiling;  // of cpu_ceiling_cores
  double cpu_ceiling_cores = 1;
  std::uint64_t memory_bytes = 0;
  std::optional<std::uint64_t> memory_peak_bytes;
  double memory_percent_of_ceiling = 0;
  std::uint64_t memory_ceiling_bytes = 0;
  std::string ceiling_source;  // "limiter" (enforced) or "machine" (nothing enforced: the whole host)
  std::uint64_t processes = 0;
  std::uint64_t threads = 0;
  std::optional<std::uint64_t> open_fds;        // from the backend, else from a /proc walk at report time
  std::optional<std::uint64_t> io_read_bytes;   // cumulative storage IO of the tree
  std::optional<std::uint64_t> io_write_bytes;

  std::vector<DiskUsage> disks;  // the watched filesystems

  // The host.
  std::optional<double> host_cpu_percent;  // of all CPUs; empty on the first check
  std::optional<std::uint64_t> host_memory_available_bytes;
  std::optional<std::uint64_t> host_memory_total_bytes;
  std::optional<Pressure> psi_cpu;
  std::optional<Pressure> psi_memory;
  std::optional<Pressure> psi_io;
  std::string psi_scope;  // "tree" (the tree's cgroup) or "host" (/proc/pressure)
};

nlohmann::json to_json(const Snapshot& snapshot);

}  // namespace guardian::monitor
