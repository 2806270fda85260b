#include "guardian/limits/backend_choice.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "guardian/limits/systemd_scope.hpp"

namespace guardian::limits {
namespace {

constexpr std::string_view kWanted[] = {"memory", "cpu", "pids"};

// What a non-root user can do, from the facts: no user bus, a manager without the controllers.
std::vector<std::string> fixes_for_user(const CgroupProbe& probe, const std::vector<std::string>& missing) {
  std::vector<std::string> out;
  if (!probe.systemd_user_session) {
    out.push_back(fmt::format(
        "no systemd user bus here (DBUS_SESSION_BUS_ADDRESS and XDG_RUNTIME_DIR are not set, as under cron, a "
        "service or su without a session){}: run guardian in a login session, or with "
        "XDG_RUNTIME_DIR=/run/user/{} when that user's manager runs",
        probe.systemd_manager_dir.empty() ? fmt::format("; this user's manager is not running either (start it "
                                                        "for good with: loginctl enable-linger $USER)")
                                          : std::string(),
        probe.euid));
  } else if (probe.systemd_manager_dir.empty() || !probe.own_writable) {
    out.push_back("run guardian in a delegated scope: systemd-run --user --scope -p Delegate=yes -- guardian run …");
  }
  std::vector<std::string> not_delegated;
  for (const auto& name : missing)
    if (!has_controller(probe.systemd_manager_controllers, name)) not_delegated.push_back(name);
  if (!not_delegated.empty())
    out.push_back(fmt::format(
        "delegate {} to user managers: a drop-in /etc/systemd/system/user@.service.d/delegate.conf with [Service] "
        "Delegate=cpu cpuset io memory pids, then systemctl daemon-reload and log in again",
        fmt::join(not_delegated, ", ")));
  return out;
}

std::vector<std::string> fixes_for_delegation(const CgroupProbe& probe, const std::vector<std::string>& missing = {}) {
  std::vector<std::string> out;
  if (probe.euid != 0) {
    out = fixes_for_user(probe, missing);
    if (!probe.systemd_manager_dir.empty()) return out;  // under systemd: not a container
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
  if (move_self) choice.origin_dir = probe.own_dir();
  choice.reason = std::move(reason);
  const bool nested = probe.nest_dir && choice.parent_dir == *probe.nest_dir;
  split_controllers(choice.parent_dir == probe.own_dir() ? probe.own_controllers
                    : nested                             ? probe.nest_controllers
                                                         : probe.root_controllers,
                    choice);
  if (!choice.missing_controllers.empty()) {
    choice.fixes = fixes_for_delegation(probe, choice.missing_controllers);
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
          {"systemd_scope", systemd_scope},
          {"permission_problem", permission_problem},
          {"reason", reason},
          {"fixes", fixes}};
}

namespace {

// The choice from guardian's own cgroup (or, as root, the root), without a systemd scope.
BackendChoice direct_choice(const CgroupProbe& probe, std::string_view requested, bool disabled) {
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
  // Beside other processes: the run nests where it stays inside every limit guardian was
  // started under (the nearest free cgroup above, if guardian may write it), not at the top.
  if (!probe.foreign_procs.empty() && probe.nest_dir && !probe.nest_dir->empty() &&
      has_controller(probe.nest_controllers, "memory"))
    return cgroup(probe, *probe.nest_dir, true,
                  fmt::format("guardian's cgroup {} also holds other processes (e.g. pid {}); guardian nests the "
                              "run beside it, in /{}",
                              own_shown, probe.foreign_procs[0], *probe.nest_dir));
  if (admin_root_ok)
    return cgroup(probe, "", false,
                  probe.foreign_procs.empty()
                      ? fmt::format("guardian's cgroup {} cannot hold the run; as root it uses the root", own_shown)
                      : fmt::format("guardian's cgroup {} also holds other processes (e.g. pid {}); as root it uses the root",
                                    own_shown, probe.foreign_procs[0]));

  if (probe.mount_read_only) {
    auto choice = watchdog(
        fmt::format("{} is mounted read-only (a container's default), so no cgroup can be made", probe.v2_mount.string()),
        {"give the container a writable cgroup2 mount in its own cgroup namespace: docker or podman run --privileged, "
         "or mount -o remount,rw /sys/fs/cgroup inside it with CAP_SYS_ADMIN"});
    for (auto& fix : fixes_for_delegation(probe))
      if (fix.find("Docker") != std::string::npos) choice.fixes.push_back(fix);
    return choice;
  }
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
  if (requested == "cgroup_v2") choice.reason += " (limits.backend = cgroup_v2 cannot be honoured)";
  return choice;
}

// A scope from the user manager is worth asking for when it holds the run where guardian's own
// cgroup cannot, or gives a controller guardian's cgroup lacks (app.slice enables cpu for its
// children only once some unit asks for it, so a plain `systemd-run --user --scope` lacks it).
bool scope_helps(const CgroupProbe& probe, const BackendChoice& direct) {
  if (probe.euid == 0 || !probe.systemd_user_session || probe.systemd_manager_dir.empty()) return false;
  if (!has_controller(probe.systemd_manager_controllers, "memory")) return false;
  if (direct.backend == Backend::watchdog) return true;
  if (direct.backend != Backend::cgroup_v2) return false;
  for (const auto& name : direct.missing_controllers)
    if (has_controller(probe.systemd_manager_controllers, name)) return true;
  return false;
}

BackendChoice via_systemd_scope(const CgroupProbe& probe, const BackendChoice& direct) {
  auto placement = scope_placement(probe.own_dir(), probe.systemd_manager_dir);
  BackendChoice choice;
  choice.backend = Backend::cgroup_v2;
  choice.systemd_scope = true;
  choice.parent_dir = probe.systemd_manager_dir + "/" + (placement.slice.empty() ? "app.slice" : placement.slice);
  choice.move_self_to_leaf = true;
  split_controllers(probe.systemd_manager_controllers, choice);
  choice.reason = fmt::format(
      "guardian asks the systemd user manager for a delegated scope in {}{} ({})",
      placement.slice.empty() ? "app.slice" : placement.slice,
      placement.part_of.empty() ? "" : fmt::format(", part of {}", placement.part_of),
      direct.backend == Backend::cgroup_v2
          ? fmt::format("its cgroup /{} lacks {}", direct.parent_dir, fmt::join(direct.missing_controllers, ", "))
          : direct.reason);
  if (!choice.missing_controllers.empty()) choice.fixes = fixes_for_user(probe, choice.missing_controllers);
  return choice;
}

}  // namespace

BackendChoice choose_backend(const CgroupProbe& probe, std::string_view requested, bool disabled,
                             bool systemd_scope_allowed) {
  BackendChoice direct = direct_choice(probe, requested, disabled);
  if (systemd_scope_allowed && (requested == "auto" || requested == "cgroup_v2") && scope_helps(probe, direct))
    return via_systemd_scope(probe, direct);
  return direct;
}

}  // namespace guardian::limits
