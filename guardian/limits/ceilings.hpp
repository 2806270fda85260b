#pragma once
// Ceilings: the resource ceilings one run enforces, computed from the mode and the
// overrides relative to a Capacity (the machine, or the enclosing cgroup when that is smaller).
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "guardian/config/config.hpp"

namespace guardian::limits {

/// What "100 %" means: the machine, or the smaller limit of the cgroup guardian runs in.
struct Capacity {
  double cores = 1;
  std::string cores_source;  // "machine (8 CPUs)", "enclosing cgroup cpu.max (2 cores)"
  std::uint64_t memory_bytes = 0;
  std::string memory_source;
};

struct Ceilings {
  std::optional<double> cpu_cores;
  std::string cpu_origin;  // "mode dev: 75% of machine (8 CPUs)", "--cpu 150%"
  std::optional<std::uint64_t> memory_max_bytes;
  std::string memory_origin;
  std::optional<std::uint64_t> memory_high_bytes;
  std::uint64_t swap_max_bytes = 0;
  std::optional<std::uint64_t> pids_max;

  /// "cpu 1.50 cores · memory 2.0 GiB (high 1.8 GiB) · pids 512"
  std::string describe() const;
  nlohmann::json to_json() const;
};

/// Throws config::ConfigError for values that cannot make sense (a memory ceiling of 0).
Ceilings compute_ceilings(const config::Config& config, const Capacity& capacity);

}  // namespace guardian::limits
