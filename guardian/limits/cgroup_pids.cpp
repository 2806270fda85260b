#include "guardian/limits/cgroup_pids.hpp"

#include "guardian/limits/cgroup_formats.hpp"

namespace guardian::limits::pids {

Status set_max(const CgroupFs& fs, std::string_view dir, std::optional<std::uint64_t> max_tasks) {
  return fs.write(dir, "pids.max", format_max_value(max_tasks));
}

Stat read_stat(const CgroupFs& fs, std::string_view dir) {
  Stat stat;
  if (auto text = fs.read(dir, "pids.current"))
    if (auto value = parse_max_value(*text); value && value->value) stat.current = *value->value;
  if (auto text = fs.read(dir, "pids.peak"))
    if (auto value = parse_max_value(*text); value && value->value) stat.peak = *value->value;
  if (auto text = fs.read(dir, "pids.events")) {
    auto keyed = parse_flat_keyed(*text);
    if (auto it = keyed.find("max"); it != keyed.end()) stat.refused_forks = it->second;
  }
  return stat;
}

}  // namespace guardian::limits::pids
