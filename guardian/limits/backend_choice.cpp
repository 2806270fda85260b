#include "guardian/limits/backend_choice.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace guardian::limits {
namespace {

constexpr std::string_view kWanted[] = {"memory", "cpu", "pids"};

std::vector<std::string> fixes_for_delegation(const CgroupProbe& probe) {
  std::vector<std::string> out;
  if (probe.euid != 0) {
    out.push_back("run guardian in a delegated scope: systemd-run --user --scope -p Delegate=yes -- guardian run …");
    out.push_back(
        "delegate cpu as well as memory and pids to user sessions: a drop-in "
        "/etc/systemd/system/user@.service.d/delegate.conf with [Service] Delegate=cpu cpuset io memory pids, "
        "then systemctl daemon-reload and log in again");
  } else {
    out.push_back("as root: systemd-run --scope -p Delegate=yes -- guardian run …");
  }
  out.push_back(
      "in Docker: docker run --cgroupns=host -v /sys/fs/cgroup:/sys/fs/cgroup:rw … (or --privileged), "
      "or run guardian as the container's first process with a writable /sys/fs/cgroup");
  return out;
}

void split_controllers(const std::vector<std::string>& available, BackendChoice& choice) {
  for (auto name : kWanted) {
    if (has_controller(available, name)) choice.controllers.emplace_back(name);
    else choice.missing_controllers.emplace_back(name);
  }
}

BackendChoice watchdog(std::string reason, std::vector<std::string> fixes) {
  BackendChoice choice;
  choice.backend = Backend::watchdog;
  choice.reason = std::move(reason);
  choice.fixes = std::move(fixes);
  return choice;
}

BackendChoice cgroup(const CgroupProbe& probe, std::string parent, bool move_self, std::string reason) {
  BackendChoice choice;
  choice.backend = Backend::cgroup_v2;
  choice.parent_dir = std::move(parent);
  choice.move_self_to_leaf = move_self;
  choice.reason = std::move(reason);
  split_controllers(choice.parent_dir == probe.own_dir() ? probe.own_controllers : probe.root_controllers, choice);
  if (!choice.missing_controllers.empty()) {
    choice.fixes = fixes_for_delegation(probe);
    choice.fixes.insert(choice.fixes.begin(),
                        fmt::format("make {} available in {}'s cgroup.subtree_control (delegate them)",
                                    fmt::join(choice.missing_controllers, ", "),
                                    choice.parent_dir.empty() ? "the root" : "/" + choice.parent_dir));
  }
  return choice;
}

}  // namespace

nlohmann::json BackendChoice::to_json() const {
  return {{"backend", to_string(backend)},
          {"parent_cgroup", backend == Backend::cgroup_v2 ? nlohmann::json("/" + parent_dir) : nlohmann::json(nullptr)},
          {"move_self_to_leaf", move_self_to_leaf},
          {"controllers", controllers},
          {"missing_controllers", missing_controllers},
          {"systemd_scope_possible", systemd_scope_possible},
          {"permission_problem", permission_problem},
          {"reason", reason},
          {"fixes", fixes}};
}

BackendChoice choose_backend(const CgroupProbe& probe, std::string_view requested, bool disabled) {
  if (disabled || requested == "none") {
    BackendChoice choice;
    choice.backend = Backend::none;
    choice.reason = disabled ? "--no-limits" : "limits.backend = none";
    return choice;
  }
  if (requested == "watchdog") return watchdog("limits.backend = watchdog", {});

  switch (probe.layout) {
    case Layout::none:
      return watchdog("no cgroup filesystem is mounted at /sys/fs/cgroup",
                      {"mount cgroup2 at /sys/fs/cgroup (a kernel with cgroup v2, systemd's default since v247)"});
    case Layout::legacy:
      return watchdog("this machine has only cgroup v1 hierarchies",
                      {"boot with systemd.unified_cgroup_hierarchy=1 (kernel command line) to get cgroup v2"});
    case Layout::hybrid:
      if (!has_controller(probe.own_controllers, "memory") && !has_controller(probe.root_controllers, "memory"))
        return watchdog(
            fmt::format("cgroups are hybrid: cpu, memory and pids are bound to v1 hierarchies and the v2 "
                        "hierarchy at {} has {}",
                        probe.v2_mount.string(),
                        probe.root_controllers.empty() ? "no controllers"
                                                       : fmt::format("only {}", fmt::join(probe.root_controllers, " "))),
            {"boot with systemd.unified_cgroup_hierarchy=1 (kernel command line) for a pure cgroup v2 hierarchy"});
      break;
    case Layout::unified: break;
  }

  if (!probe.own_path)
    return watchdog("/proc/self/cgroup has no cgroup v2 (0::) line", fixes_for_delegation(probe));
  const std::string own = probe.own_dir();
  const std::string own_shown = "/" + own;
  const bool admin_root_ok = probe.euid == 0 && probe.mount_is_real_root && probe.root_writable &&
                             has_controller(probe.root_controllers, "memory");
  if (!probe.own_visible) {
    if (admin_root_ok)
      return cgroup(probe, "", false,
                    fmt::format("guardian's cgroup {} is not visible under {}; as root it uses the root", own_shown,
                                probe.v2_mount.string()));
    return watchdog(fmt::format("guardian's cgroup {} is not visible under {} (a cgroup namespace?)", own_shown,
                                probe.v2_mount.string()),
                    fixes_for_delegation(probe));
  }

  if (probe.own_is_root && probe.mount_is_real_root) {
    if (probe.root_writable && has_controller(probe.root_controllers, "memory"))
      return cgroup(probe, "", false, "guardian runs in the root cgroup and may write it");
    const bool has_memory = has_controller(probe.root_controllers, "memory");
    auto why = !has_memory
                   ? fmt::format("the root cgroup has no memory controller ({})", fmt::join(probe.root_controllers, " "))
                   : fmt::format("the root cgroup {} is not writable by uid {}", probe.v2_mount.string(), probe.euid);
    auto choice = watchdog(why, fixes_for_delegation(probe));
    choice.permission_problem = has_memory;
    return choice;
  }

  const bool own_has_memory = has_controller(probe.own_controllers, "memory");
  if (probe.own_writable && own_has_memory && probe.foreign_procs.empty())
    return cgroup(probe, own, !probe.own_procs.empty(),
                  fmt::format("guardian's cgroup {} is delegated to it (writable, memory controller available)",
                              own_shown));
  if (admin_root_ok)
    return cgroup(probe, "", false,
                  probe.foreign_procs.empty()
                      ? fmt::format("guardian's cgroup {} cannot hold the run; as root it uses the root", own_shown)
                      : fmt::format("guardian's cgroup {} also holds other processes (e.g. pid {}); as root it uses the root",
                                    own_shown, probe.foreign_procs[0]));

  std::string why;
  if (!own_has_memory)
    why = fmt::format("the memory controller is not delegated to guardian's cgroup {} (it has: {})", own_shown,
                      probe.own_controllers.empty() ? "none" : fmt::format("{}", fmt::join(probe.own_controllers, " ")));
  else if (!probe.own_writable)
    why = fmt::format("guardian's cgroup {} is not writable by uid {} (not delegated)", own_shown, probe.euid);
  else
    why = fmt::format("guardian's cgroup {} also holds other processes (e.g. pid {}), so cgroup v2 forbids "
                      "enabling controllers there",
                      own_shown, probe.foreign_procs[0]);
  auto choice = watchdog(why, fixes_for_delegation(probe));
  choice.permission_problem = own_has_memory && !probe.own_writable;
  choice.systemd_scope_possible = probe.euid != 0 && probe.systemd_user_session;
  if (requested == "cgroup_v2") choice.reason += " (limits.backend = cgroup_v2 cannot be honoured)";
  return choice;
}

}  // namespace guardian::limits
