#include "guardian/limits/cgroup_cpu.hpp"

#include "guardian/limits/cgroup_formats.hpp"

namespace guardian::limits::cpu {

Stat parse_stat(std::string_view text) {
  auto keyed = parse_flat_keyed(text);
  auto get = [&](const char* key) {
    auto it = keyed.find(key);
    return it == keyed.end() ? std::uint64_t{0} : it->second;
  };
  return Stat{get("usage_usec"), get("user_usec"),    get("system_usec"),
              get("nr_periods"), get("nr_throttled"), get("throttled_usec")};
}

Result<Stat> read_stat(const CgroupFs& fs, std::string_view dir) {
  auto text = fs.read(dir, "cpu.stat");
  if (!text) return text.error();
  return parse_stat(*text);
}

Status set_max(const CgroupFs& fs, std::string_view dir, std::optional<double> cores, std::uint64_t period_usec) {
  return fs.write(dir, "cpu.max", format_cpu_max(cores, period_usec));
}

}  // namespace guardian::limits::cpu
