#pragma once
// Diagnosis: everything `guardian doctor` reports about resource ceilings on this machine —
// the cgroup layout, guardian's cgroup and its controllers, enclosing limits, which backend
// `guardian run` would use and why, and what to do for full enforcement. Read-only.
#include <nlohmann/json.hpp>
#include <string>

#include "guardian/config/config.hpp"
#include "guardian/limits/backend_choice.hpp"
#include "guardian/limits/capacity.hpp"
#include "guardian/limits/ceilings.hpp"
#include "guardian/limits/cgroup_probe.hpp"

namespace guardian::limits {

struct Diagnosis {
  std::string mode;
  CgroupProbe probe;
  BackendChoice choice;
  Machine machine;
  Capacity capacity;
  Ceilings ceilings;
  std::string capped;  // what the enclosing limits lowered (empty: nothing)

  nlohmann::json to_json() const;
  /// Human text, several lines ending in a newline.
  std::string to_text() const;
};

Diagnosis diagnose(const config::Config& config, const CgroupProbe& probe, const Machine& machine);

}  // namespace guardian::limits
