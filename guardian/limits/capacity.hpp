#pragma once
// What the ceilings of a mode are shares of: the machine's CPUs and RAM, or the limits of the
// cgroup guardian runs in when those are smaller (a container, a systemd slice).
#include <cstdint>
#include <filesystem>

#include "guardian/limits/ceilings.hpp"
#include "guardian/limits/cgroup_probe.hpp"

namespace guardian::limits {

struct Machine {
  double cpus = 1;                 // CPUs this process may run on (affinity)
  std::uint64_t memory_bytes = 0;  // MemTotal
};

/// The real machine (sched_getaffinity, /proc/meminfo).
Machine this_machine(const std::filesystem::path& meminfo = "/proc/meminfo");

/// The smaller of the machine and the enclosing cgroup limits found by the probe.
Capacity capacity_of(const Machine& machine, const CgroupProbe& probe);

}  // namespace guardian::limits
