#include "guardian/limits/capacity.hpp"

#include <sched.h>
#include <unistd.h>

#include <fmt/format.h>
#include <fstream>
#include <string>

#include "guardian/config/quantity.hpp"

namespace guardian::limits {

Machine this_machine(const std::filesystem::path& meminfo) {
  Machine machine;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) == 0) machine.cpus = CPU_COUNT(&set);
  else machine.cpus = static_cast<double>(std::max(1L, ::sysconf(_SC_NPROCESSORS_ONLN)));
  std::ifstream in(meminfo);
  std::string key;
  std::uint64_t kib = 0;
  while (in >> key >> kib) {
    if (key == "MemTotal:") {
      machine.memory_bytes = kib * 1024;
      break;
    }
    in.ignore(1 << 10, '\n');
  }
  return machine;
}

Capacity capacity_of(const Machine& machine, const CgroupProbe& probe) {
  Capacity capacity;
  capacity.cores = machine.cpus;
  capacity.cores_source = fmt::format("the machine ({:g} CPUs)", machine.cpus);
  if (probe.enclosing_cpu_cores && *probe.enclosing_cpu_cores < machine.cpus) {
    capacity.cores = *probe.enclosing_cpu_cores;
    capacity.cores_source = fmt::format("the enclosing cgroup ({:g} cores, {})", capacity.cores, probe.enclosing_cpu_from);
  }
  capacity.memory_bytes = machine.memory_bytes;
  capacity.memory_source = fmt::format("the machine ({})", config::format_bytes(machine.memory_bytes));
  if (probe.enclosing_memory_bytes && *probe.enclosing_memory_bytes < machine.memory_bytes) {
    capacity.memory_bytes = *probe.enclosing_memory_bytes;
    capacity.memory_source = fmt::format("the enclosing cgroup ({}, {})", config::format_bytes(capacity.memory_bytes),
                                         probe.enclosing_memory_from);
  }
  return capacity;
}

}  // namespace guardian::limits
