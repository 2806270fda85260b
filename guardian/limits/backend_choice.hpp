#pragma once
// BackendChoice: the decision, from a CgroupProbe alone, of which backend holds the tree and
// where its cgroups go — with the reason in one sentence and the steps to full enforcement.
// Pure logic, so every machine shape is unit-tested; make_limiter and `guardian doctor` use it.
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "guardian/limits/cgroup_probe.hpp"
#include "guardian/limits/limiter.hpp"

namespace guardian::limits {

struct BackendChoice {
  Backend backend = Backend::watchdog;
  /// cgroup v2: the cgroup (relative to the mount) under which the run's cgroups are created.
  std::string parent_dir;
  /// cgroup v2: guardian and its children must first move out of parent_dir into a leaf
  /// (the "no internal processes" rule), because parent_dir is not the host's root.
  bool move_self_to_leaf = false;
  /// With move_self_to_leaf: the cgroup guardian leaves, and returns to at the end — parent_dir
  /// itself, or (root, its own cgroup shared) guardian's cgroup below parent_dir.
  std::string origin_dir;
  /// cgroup v2: the controllers to enable for the run (of cpu, memory, pids).
  std::vector<std::string> controllers;
  /// Controllers wanted but not available there (their ceilings are not enforced by cgroups).
  std::vector<std::string> missing_controllers;
  /// guardian asks the systemd user manager for a delegated transient scope and moves into it
  /// (not root, and its own cgroup cannot hold the run or lacks a controller the manager has):
  /// parent_dir is then the manager's slice and the controllers those delegated to the manager.
  bool systemd_scope = false;
  /// cgroup v2 would work but guardian may not write where it needs to (a permission problem).
  bool permission_problem = false;
  std::string reason;               // why this backend, one sentence
  std::vector<std::string> fixes;   // what to do for full enforcement (empty when full)

  nlohmann::json to_json() const;
};

/// `requested`: "auto", "cgroup_v2", "watchdog" or "none" (limits.backend); `disabled`: --no-limits;
/// `systemd_scope_allowed`: false once guardian asked for its scope (or failed to get one).
BackendChoice choose_backend(const CgroupProbe& probe, std::string_view requested, bool disabled,
                             bool systemd_scope_allowed = true);

}  // namespace guardian::limits
