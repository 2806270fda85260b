#include "guardian/limits/cgroup_usage_reader.hpp"

#include <algorithm>

#include "guardian/limits/cgroup_cpu.hpp"
#include "guardian/limits/cgroup_formats.hpp"

namespace guardian::limits {

CgroupUsageReader::CgroupUsageReader(const CgroupFs& fs, const std::string& unit_dir, const std::string& tree_dir,
                                     bool memory, bool pids)
    : memory_(memory),
      pids_(pids),
      unit_cpu_stat_(fs.path(unit_dir, "cpu.stat")),
      tree_cpu_stat_(fs.path(tree_dir, "cpu.stat")),
      memory_current_(fs.path(unit_dir, "memory.current")),
      memory_peak_(fs.path(unit_dir, "memory.peak")),
      procs_(fs.path(unit_dir, "cgroup.procs")),
      cgroup_stat_(fs.path(unit_dir, "cgroup.stat")),
      tasks_(fs.path(unit_dir, pids ? "pids.current" : "cgroup.threads")),
      cpu_pressure_(fs.path(unit_dir, "cpu.pressure")),
      memory_pressure_(fs.path(unit_dir, "memory.pressure")),
      io_pressure_(fs.path(unit_dir, "io.pressure")) {}

std::optional<std::string_view> CgroupUsageReader::text(process::KeptOpenFile& file) {
  return file.read(buffer_, overflow_);
}

std::optional<TreeUsage::Pressure> CgroupUsageReader::pressure(process::KeptOpenFile& file) {
  auto content = text(file);
  if (!content) return std::nullopt;
  auto parsed = parse_pressure(*content);
  if (!parsed) return std::nullopt;
  return TreeUsage::Pressure{parsed->some_avg10, parsed->full_avg10};
}

bool CgroupUsageReader::read(TreeUsage& usage) {
  if (auto content = text(unit_cpu_stat_)) usage.cpu_usec = cpu::parse_stat(*content).usage_usec;
  if (auto content = text(tree_cpu_stat_)) {
    const auto tree = cpu::parse_stat(*content);
    usage.cpu_nr_throttled = tree.nr_throttled;
    usage.cpu_throttled_usec = tree.throttled_usec;
  }
  if (memory_) {
    if (auto content = text(memory_current_)) {
      auto value = parse_max_value(*content);
      usage.memory_bytes = value && value->value ? *value->value : 0;
    }
    if (auto content = text(memory_peak_))  // absent before Linux 5.19
      if (auto value = parse_max_value(*content)) usage.memory_peak_bytes = value->value;
  }
  if (auto content = text(procs_)) usage.processes = parse_pid_list(*content).size();
  if (auto content = text(tasks_)) {
    if (pids_) usage.threads = parse_max_value(*content).value_or(MaxValue{}).value.value_or(0);
    else usage.threads = static_cast<std::uint64_t>(std::count(content->begin(), content->end(), '\n'));
  }
  usage.cpu_pressure = pressure(cpu_pressure_);
  usage.memory_pressure = pressure(memory_pressure_);
  usage.io_pressure = pressure(io_pressure_);

  auto stat = text(cgroup_stat_);
  if (!stat) return true;
  auto keyed = parse_flat_keyed(*stat);
  auto descendants = keyed.find("nr_descendants");
  return descendants == keyed.end() || descendants->second == 0;
}

}  // namespace guardian::limits
