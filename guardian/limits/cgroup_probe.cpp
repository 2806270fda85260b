#include "guardian/limits/cgroup_probe.hpp"

#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fmt/format.h>
#include <linux/magic.h>

#include "guardian/limits/cgroup_formats.hpp"
#include "guardian/limits/cgroup_fs.hpp"
#include "guardian/process/proc_tree.hpp"

namespace guardian::limits {
namespace {

std::optional<long> real_fs_magic(const std::filesystem::path& path) {
  struct statfs info {};
  if (::statfs(path.c_str(), &info) != 0) return std::nullopt;
  return static_cast<long>(info.f_type);
}

bool real_is_own_process(pid_t pid) {
  pid_t self = ::getpid();
  if (pid == self) return true;
  auto stat = process::ProcFs{}.stat(pid);
  return stat && stat->ppid == self;
}

bool real_systemd_user_session() {
  if (const char* bus = std::getenv("DBUS_SESSION_BUS_ADDRESS"); bus && *bus) return true;
  const char* runtime = std::getenv("XDG_RUNTIME_DIR");
  return runtime && *runtime && ::access((std::string(runtime) + "/systemd/private").c_str(), F_OK) == 0;
}

// The cgroup of user `euid`'s systemd manager: the user@UID.service guardian runs under, else
// where systemd puts it (a login session's scope is its sibling, not its child).
void read_systemd_manager(const CgroupFs& fs, const std::string& own, uid_t euid, CgroupProbe& out) {
  const std::string manager = fmt::format("user@{}.service", euid);
  std::string dir;
  if (auto at = ("/" + own + "/").find("/" + manager + "/"); at != std::string::npos)
    dir = own.substr(0, at + manager.size());
  else
    dir = fmt::format("user.slice/user-{}.slice/{}", euid, manager);
  if (!fs.exists(dir, "cgroup.procs")) return;
  out.systemd_manager_dir = dir;
  out.systemd_manager_controllers = parse_controllers(fs.read(dir, "cgroup.controllers").value_or(""));
}

// Walks from `dir` up to the root of `fs`, calling f(dir) for each level (dir first).
template <typename F>
void for_each_ancestor(std::string dir, F f) {
  while (true) {
    f(dir);
    if (dir.empty()) return;
    auto slash = dir.rfind('/');
    dir = slash == std::string::npos ? std::string() : dir.substr(0, slash);
  }
}

void find_nest(const CgroupFs& fs, const std::string& own, CgroupProbe& out) {
  std::string dir = own;
  while (!dir.empty()) {
    auto slash = dir.rfind('/');
    dir = slash == std::string::npos ? std::string() : dir.substr(0, slash);
    const bool exempt = dir.empty() && out.mount_is_real_root;  // the real root may hold processes
    auto procs = fs.read(dir, "cgroup.procs");
    if (!exempt && !(procs && parse_pid_list(*procs).empty())) continue;
    // Moving guardian there takes write access to it (the common ancestor's cgroup.procs):
    // root has it; a user where the cgroup is delegated to them.
    if (out.euid != 0 && !(fs.writable(dir) && fs.writable(dir, "cgroup.procs") &&
                           fs.writable(dir, "cgroup.subtree_control")))
      return;
    out.nest_dir = dir;
    out.nest_controllers = parse_controllers(fs.read(dir, "cgroup.controllers").value_or(""));
    return;
  }
}

void read_v2_enclosing(const CgroupFs& fs, const std::string& own, CgroupProbe& out) {
  for_each_ancestor(own, [&](const std::string& dir) {
    if (auto text = fs.read(dir, "memory.max"))
      if (auto value = parse_max_value(*text); value && value->value)
        if (!out.enclosing_memory_bytes || *value->value < *out.enclosing_memory_bytes) {
          out.enclosing_memory_bytes = *value->value;
          out.enclosing_memory_from = fs.path(dir, "memory.max");
        }
    if (auto text = fs.read(dir, "cpu.max"))
      if (auto value = parse_cpu_max(*text); value && value->cores())
        if (!out.enclosing_cpu_cores || *value->cores() < *out.enclosing_cpu_cores) {
          out.enclosing_cpu_cores = *value->cores();
          out.enclosing_cpu_from = fs.path(dir, "cpu.max");
        }
  });
}

// Hybrid and legacy machines: the v1 memory and cpu hierarchies carry the limits.
void read_v1_enclosing(const std::filesystem::path& root, std::string_view proc_cgroup, CgroupProbe& out) {
  if (auto path = parse_v1_cgroup_path(proc_cgroup, "memory")) {
    CgroupFs fs(root / "memory");
    for_each_ancestor(join_dir("", *path), [&](const std::string& dir) {
      if (auto text = fs.read(dir, "memory.limit_in_bytes"))
        if (auto value = parse_max_value(*text); value && value->value && *value->value < (1ULL << 60))
          if (!out.enclosing_memory_bytes || *value->value < *out.enclosing_memory_bytes) {
            out.enclosing_memory_bytes = *value->value;
            out.enclosing_memory_from = fs.path(dir, "memory.limit_in_bytes");
          }
    });
  }
  if (auto path = parse_v1_cgroup_path(proc_cgroup, "cpu")) {
    CgroupFs fs(root / "cpu");
    for_each_ancestor(join_dir("", *path), [&](const std::string& dir) {
      auto quota = fs.read(dir, "cpu.cfs_quota_us");
      auto period = fs.read(dir, "cpu.cfs_period_us");
      if (!quota || !period) return;
      long long q = std::atoll(quota->c_str()), p = std::atoll(period->c_str());
      if (q <= 0 || p <= 0) return;
      double cores = static_cast<double>(q) / static_cast<double>(p);
      if (!out.enclosing_cpu_cores || cores < *out.enclosing_cpu_cores) {
        out.enclosing_cpu_cores = cores;
        out.enclosing_cpu_from = fs.path(dir, "cpu.cfs_quota_us");
      }
    });
  }
}

}  // namespace

std::string_view to_string(Layout layout) {
  switch (layout) {
    case Layout::unified: return "unified";
    case Layout::hybrid: return "hybrid";
    case Layout::legacy: return "legacy";
    case Layout::none: return "none";
  }
  return "unknown";
}

bool has_controller(const std::vector<std::string>& controllers, std::string_view name) {
  return std::find(controllers.begin(), controllers.end(), name) != controllers.end();
}

std::string CgroupProbe::own_dir() const { return own_path ? join_dir("", *own_path) : std::string(); }

nlohmann::json CgroupProbe::to_json() const {
  auto opt = [](const auto& value) { return value ? nlohmann::json(*value) : nlohmann::json(nullptr); };
  return {{"layout", to_string(layout)},
          {"v2_mount", v2_mount.empty() ? nlohmann::json(nullptr) : nlohmann::json(v2_mount.string())},
          {"own_cgroup", opt(own_path)},
          {"own_is_root", own_is_root},
          {"mount_is_host_root", mount_is_real_root},
          {"mount_read_only", mount_read_only},
          {"root_controllers", root_controllers},
          {"root_subtree_control", root_subtree_control},
          {"own_controllers", own_controllers},
          {"own_subtree_control", own_subtree_control},
          {"root_writable", root_writable},
          {"own_writable", own_writable},
          {"own_processes", own_procs.size()},
          {"foreign_processes", foreign_procs.size()},
          {"nest_cgroup", nest_dir ? nlohmann::json("/" + *nest_dir) : nlohmann::json(nullptr)},
          {"cgroup_kill", has_kill_file},
          {"euid", euid},
          {"systemd_user_session", systemd_user_session},
          {"systemd_manager_cgroup", systemd_manager_dir.empty() ? nlohmann::json(nullptr)
                                                                 : nlohmann::json("/" + systemd_manager_dir)},
          {"systemd_manager_controllers", systemd_manager_controllers},
          {"enclosing_memory_bytes", opt(enclosing_memory_bytes)},
          {"enclosing_memory_from", enclosing_memory_from},
          {"enclosing_cpu_cores", opt(enclosing_cpu_cores)},
          {"enclosing_cpu_from", enclosing_cpu_from}};
}

CgroupProbe probe_cgroups(const ProbeSources& sources) {
  auto magic = sources.fs_magic ? sources.fs_magic : real_fs_magic;
  auto is_own = sources.is_own_process ? sources.is_own_process : real_is_own_process;
  CgroupProbe out;
  out.euid = sources.euid.value_or(::geteuid());
  out.systemd_user_session =
      sources.has_systemd_user_session ? sources.has_systemd_user_session() : real_systemd_user_session();

  auto root_magic = magic(sources.cgroup_root);
  if (root_magic && *root_magic == CGROUP2_SUPER_MAGIC) {
    out.layout = Layout::unified;
    out.v2_mount = sources.cgroup_root;
  } else if (root_magic && *root_magic == TMPFS_MAGIC) {
    auto unified = sources.cgroup_root / "unified";
    auto unified_magic = magic(unified);
    if (unified_magic && *unified_magic == CGROUP2_SUPER_MAGIC) {
      out.layout = Layout::hybrid;
      out.v2_mount = unified;
    } else {
      out.layout = Layout::legacy;
    }
  }

  std::string proc_cgroup = CgroupFs(sources.proc_self_cgroup.parent_path())
                                .read("", sources.proc_self_cgroup.filename().string())
                                .value_or(std::string());
  if (out.layout == Layout::hybrid || out.layout == Layout::legacy)
    read_v1_enclosing(sources.cgroup_root, proc_cgroup, out);
  if (out.v2_mount.empty()) return out;

  CgroupFs fs(out.v2_mount);
  if (struct statfs info {}; ::statfs(out.v2_mount.c_str(), &info) == 0) out.mount_read_only = info.f_flags & ST_RDONLY;
  out.own_path = parse_unified_cgroup_path(proc_cgroup);
  out.mount_is_real_root = !fs.exists("", "cgroup.events");
  out.root_controllers = parse_controllers(fs.read("", "cgroup.controllers").value_or(""));
  out.root_subtree_control = parse_controllers(fs.read("", "cgroup.subtree_control").value_or(""));
  out.root_writable = fs.writable("") && fs.writable("", "cgroup.subtree_control");
  if (!out.own_path) return out;

  std::string own = out.own_dir();
  out.own_is_root = own.empty();
  out.own_visible = fs.exists(own, "cgroup.procs");
  if (!out.own_visible) return out;  // e.g. a cgroup namespace whose mount shows another tree
  out.own_controllers = parse_controllers(fs.read(own, "cgroup.controllers").value_or(""));
  out.own_subtree_control = parse_controllers(fs.read(own, "cgroup.subtree_control").value_or(""));
  out.own_writable = fs.writable(own) && fs.writable(own, "cgroup.procs") && fs.writable(own, "cgroup.subtree_control");
  out.own_procs = parse_pid_list(fs.read(own, "cgroup.procs").value_or(""));
  for (pid_t pid : out.own_procs)
    if (!is_own(pid)) {
      out.foreign_procs.push_back(pid);
      break;
    }
  if (!out.foreign_procs.empty() && !own.empty()) find_nest(fs, own, out);
  // The root has no cgroup.kill; any child (or guardian's own non-root cgroup) tells.
  out.has_kill_file = fs.exists(own, "cgroup.kill");
  if (!out.has_kill_file)
    for (const auto& child : fs.children(own))
      if (fs.exists(join_dir(own, child), "cgroup.kill")) {
        out.has_kill_file = true;
        break;
      }
  if (!out.has_kill_file && !sources.fs_magic) {
    // Nothing to look at (the root has no cgroup.kill): the kernel version tells.
    struct utsname name {};
    int major = 0, minor = 0;
    if (::uname(&name) == 0 && std::sscanf(name.release, "%d.%d", &major, &minor) == 2)
      out.has_kill_file = major > 5 || (major == 5 && minor >= 14);
  }
  read_v2_enclosing(fs, own, out);
  if (out.euid != 0) read_systemd_manager(fs, own, out.euid, out);
  return out;
}

}  // namespace guardian::limits
