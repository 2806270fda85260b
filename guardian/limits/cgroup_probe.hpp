#pragma once
// CgroupProbe: the facts about this machine's cgroups that decide how guardian can hold a
// tree — the layout (statfs magic of /sys/fs/cgroup), guardian's own cgroup (the 0:: line
// of /proc/self/cgroup), which controllers it has and whether it is writable (delegated),
// and the limits of the cgroups guardian runs inside. Read-only: probing changes nothing.
#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace guardian::limits {

enum class Layout {
  unified,  // pure cgroup v2 at /sys/fs/cgroup
  hybrid,   // v1 controllers plus a v2 hierarchy (usually /sys/fs/cgroup/unified)
  legacy,   // v1 only
  none,     // no cgroup filesystem
};
std::string_view to_string(Layout layout);

/// Where the probe looks; tests point it at fixture trees.
struct ProbeSources {
  std::filesystem::path cgroup_root = "/sys/fs/cgroup";
  std::filesystem::path proc_self_cgroup = "/proc/self/cgroup";
  /// statfs(2) f_type of a path, empty when it does not exist (default: the real statfs).
  std::function<std::optional<long>(const std::filesystem::path&)> fs_magic;
  /// Whether a pid is guardian itself or its own child (default: reads /proc).
  std::function<bool(pid_t)> is_own_process;
  std::optional<uid_t> euid;  // default: geteuid()
  /// Whether a systemd user manager answers on the user bus (default: looks for its socket).
  std::function<bool()> has_systemd_user_session;
};

struct CgroupProbe {
  Layout layout = Layout::none;
  std::filesystem::path v2_mount;       // empty without a cgroup2 mount
  std::optional<std::string> own_path;  // "/user.slice/…" (relative to the v2 mount), from 0::
  bool own_visible = false;             // the own path exists under the mount
  bool own_is_root = false;             // own path is "/"
  bool mount_is_real_root = false;      // mount root is the host's root cgroup (exempt from the
                                        // no-internal-processes rule; has no cgroup.events)
  std::vector<std::string> root_controllers, root_subtree_control;
  std::vector<std::string> own_controllers, own_subtree_control;
  bool mount_read_only = false;         // the cgroup2 mount is read-only (a container's default)
  bool root_writable = false;
  bool own_writable = false;            // directory, cgroup.procs and cgroup.subtree_control
  std::vector<pid_t> own_procs;         // processes in guardian's cgroup
  // Of those, the first that is neither guardian nor its child: one is enough to forbid
  // enabling controllers there, and checking every process of a root cgroup (hundreds of
  // /proc reads) would cost each run milliseconds. Empty: none.
  std::vector<pid_t> foreign_procs;
  // When guardian's cgroup also holds other processes: the nearest cgroup above it that holds
  // none (a cgroup with processes cannot enable controllers for its children), where the run
  // can nest beside guardian's cgroup and stay inside every limit above it — if guardian may
  // write it (root; a user where it is delegated to them). For root, the real root when no
  // level between is free; empty when nothing is (a cgroup namespace's busy root).
  std::optional<std::string> nest_dir;
  std::vector<std::string> nest_controllers;
  bool has_kill_file = false;           // cgroup.kill (Linux 5.14+)
  uid_t euid = 0;
  bool systemd_user_session = false;
  // Non-root: the cgroup of this user's systemd manager (user@UID.service, relative to the
  // mount; empty when it does not run) and the controllers delegated to it — what a transient
  // scope guardian asks that manager for can have.
  std::string systemd_manager_dir;
  std::vector<std::string> systemd_manager_controllers;
  // The smallest limits of the cgroups guardian runs in (v2, or v1 memory/cpu in hybrid).
  std::optional<std::uint64_t> enclosing_memory_bytes;
  std::string enclosing_memory_from;  // the file that says so
  std::optional<double> enclosing_cpu_cores;
  std::string enclosing_cpu_from;

  /// own_path relative to the mount without the leading '/' ("" for the root).
  std::string own_dir() const;
  nlohmann::json to_json() const;
};

CgroupProbe probe_cgroups(const ProbeSources& sources = {});

/// Whether `controllers` lists `name`.
bool has_controller(const std::vector<std::string>& controllers, std::string_view name);

}  // namespace guardian::limits
