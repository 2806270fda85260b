#include "guardian/monitor/snapshot.hpp"

#include <cmath>

#include "guardian/report/clock.hpp"

namespace guardian::monitor {
namespace {

template <typename T>
nlohmann::json or_null(const std::optional<T>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

// Two decimals are plenty for percentages and keep events short.
nlohmann::json rounded(std::optional<double> value) {
  if (!value) return nullptr;
  return std::round(*value * 100.0) / 100.0;
}

nlohmann::json pressure_json(const std::optional<Pressure>& pressure) {
  if (!pressure) return nullptr;
  return {{"some_avg10", rounded(pressure->some_avg10)}, {"full_avg10", rounded(pressure->full_avg10)}};
}

}  // namespace

nlohmann::json to_json(const Snapshot& s) {
  nlohmann::json disks = nlohmann::json::array();
  for (const auto& disk : s.disks)
    disks.push_back({{"path", disk.path},
                     {"used_percent", rounded(disk.used_percent)},
                     {"total_bytes", disk.total_bytes},
                     {"available_bytes", disk.available_bytes}});
  return {
      {"time", report::iso8601(s.time)},
      {"level", to_string(s.level)},
      {"tree",
       {{"cpu_percent_of_core", rounded(s.cpu_percent_of_core)},
        {"cpu_percent_of_ceiling", rounded(s.cpu_percent_of_ceiling)},
        {"cpu_ceiling_cores", rounded(s.cpu_ceiling_cores)},
        {"memory_bytes", s.memory_bytes},
        {"memory_peak_bytes", or_null(s.memory_peak_bytes)},
        {"memory_percent_of_ceiling", rounded(s.memory_percent_of_ceiling)},
        {"memory_ceiling_bytes", s.memory_ceiling_bytes},
        {"ceiling_source", s.ceiling_source},
        {"processes", s.processes},
        {"threads", s.threads},
        {"open_fds", or_null(s.open_fds)},
        {"io_read_bytes", or_null(s.io_read_bytes)},
        {"io_write_bytes", or_null(s.io_write_bytes)}}},
      {"disks", std::move(disks)},
      {"host",
       {{"cpu_percent", rounded(s.host_cpu_percent)},
        {"memory_available_bytes", or_null(s.host_memory_available_bytes)},
        {"memory_total_bytes", or_null(s.host_memory_total_bytes)}}},
      {"psi",
       {{"scope", s.psi_scope.empty() ? nlohmann::json(nullptr) : nlohmann::json(s.psi_scope)},
        {"cpu", pressure_json(s.psi_cpu)},
        {"memory", pressure_json(s.psi_memory)},
        {"io", pressure_json(s.psi_io)}}},
  };
}

}  // namespace guardian::monitor
