#include "guardian/limits/diagnosis.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "guardian/config/quantity.hpp"
#include "guardian/limits/enclosing_cap.hpp"

namespace guardian::limits {
namespace {

constexpr const char* kNeeded[] = {"memory", "cpu", "pids"};

std::string list_or_none(const std::vector<std::string>& names) {
  return names.empty() ? std::string("(none)") : fmt::format("{}", fmt::join(names, " "));
}

// Controllers guardian could use under its own cgroup: available there and the cgroup writable.
std::vector<std::string> delegated(const CgroupProbe& probe) {
  std::vector<std::string> out;
  if (!probe.own_writable) return out;
  for (const auto& name : probe.own_controllers) out.push_back(name);
  return out;
}

}  // namespace

Diagnosis diagnose(const config::Config& config, const CgroupProbe& probe, const Machine& machine) {
  Diagnosis out;
  out.mode = config.text("mode");
  out.probe = probe;
  out.machine = machine;
  std::string requested = config.text("limits.backend");
  out.choice = choose_backend(probe, requested.empty() ? "auto" : requested, config.boolean("limits.disabled"));
  out.capacity = capacity_of(machine, probe);
  out.ceilings = compute_ceilings(config, out.capacity);
  out.capped = cap_to_enclosing(out.ceilings, probe).value_or("");
  return out;
}

nlohmann::json Diagnosis::to_json() const {
  nlohmann::json needed = nlohmann::json::object();
  for (const char* name : kNeeded)
    needed[name] = {{"available", has_controller(probe.own_controllers, name)},
                    {"delegated", has_controller(delegated(probe), name)}};
  return {{"layout", to_string(probe.layout)},
          {"cgroup", probe.to_json()},
          {"controllers", needed},
          {"delegated_controllers", delegated(probe)},
          {"machine", {{"cpus", machine.cpus}, {"memory_bytes", machine.memory_bytes}}},
          {"capacity",
           {{"cores", capacity.cores},
            {"cores_source", capacity.cores_source},
            {"memory_bytes", capacity.memory_bytes},
            {"memory_source", capacity.memory_source}}},
          {"mode", mode},
          {"ceilings", ceilings.to_json()},
          {"ceilings_capped", capped.empty() ? nlohmann::json(nullptr) : nlohmann::json(capped)},
          {"run_backend", choice.to_json()},
          {"full_enforcement", choice.backend == Backend::cgroup_v2 && choice.missing_controllers.empty()},
          {"fixes", choice.fixes}};
}

std::string Diagnosis::to_text() const {
  std::string out;
  auto line = [&](std::string_view label, const std::string& text) { out += fmt::format("  {:<22}{}\n", label, text); };
  out += "guardian doctor — resource ceilings on this machine\n";
  std::string layout = std::string(to_string(probe.layout));
  if (probe.layout == Layout::unified) layout += fmt::format(" (pure cgroup v2 at {})", probe.v2_mount.string());
  if (probe.layout == Layout::hybrid)
    layout += fmt::format(" (v1 controllers plus a cgroup v2 hierarchy at {})", probe.v2_mount.string());
  if (probe.layout == Layout::legacy) layout += " (cgroup v1 only)";
  line("cgroup layout:", layout);
  if (!probe.v2_mount.empty()) {
    line("own cgroup (v2):",
         fmt::format("{} · writable by uid {}: {} · processes: {} ({})", probe.own_path.value_or("?"), probe.euid,
                     probe.own_writable ? "yes" : "no", probe.own_procs.size(),
                     probe.foreign_procs.empty() ? "all guardian's"
                                                 : fmt::format("not only guardian's, e.g. pid {}", probe.foreign_procs[0])));
    line("controllers:", fmt::format("available {} · delegated {} · enabled for children {}",
                                     list_or_none(probe.own_controllers), list_or_none(delegated(probe)),
                                     list_or_none(probe.own_subtree_control)));
    std::string needed;
    for (const char* name : kNeeded)
      needed += fmt::format("{}{} {}", needed.empty() ? "" : " · ", name,
                            has_controller(probe.own_controllers, name) ? "yes" : "MISSING");
    line("needed:", needed);
    line("cgroup.kill:", probe.has_kill_file ? "yes (Linux 5.14+)" : "not seen (freeze + kill + thaw is used)");
    if (probe.euid != 0)
      line("systemd user manager:",
           fmt::format("{} · user bus: {}",
                       probe.systemd_manager_dir.empty()
                           ? std::string("not running")
                           : fmt::format("/{} (delegated: {})", probe.systemd_manager_dir,
                                         list_or_none(probe.systemd_manager_controllers)),
                       probe.systemd_user_session ? "yes" : "no (DBUS_SESSION_BUS_ADDRESS, XDG_RUNTIME_DIR unset)"));
  }
  line("enclosing limits:",
       fmt::format("memory {} · cpu {}",
                   probe.enclosing_memory_bytes
                       ? fmt::format("{} ({})", config::format_bytes(*probe.enclosing_memory_bytes), probe.enclosing_memory_from)
                       : std::string("none"),
                   probe.enclosing_cpu_cores
                       ? fmt::format("{:g} cores ({})", *probe.enclosing_cpu_cores, probe.enclosing_cpu_from)
                       : std::string("none")));
  line("capacity:", fmt::format("{:g} cores from {} · {} from {}", capacity.cores, capacity.cores_source,
                                config::format_bytes(capacity.memory_bytes), capacity.memory_source));
  line(fmt::format("mode {} ceilings:", mode), ceilings.describe());
  if (!capped.empty()) line("", capped);
  std::string backend = std::string(to_string(choice.backend));
  if (choice.backend == Backend::cgroup_v2 && choice.systemd_scope)
    backend += fmt::format(" in its own transient scope under /{}", choice.parent_dir);
  else if (choice.backend == Backend::cgroup_v2)
    backend += fmt::format(" under /{}{}", choice.parent_dir, choice.move_self_to_leaf ? " (guardian moves into its own leaf first)" : "");
  line("'guardian run' uses:", fmt::format("{} — {}", backend, choice.reason));
  if (!choice.missing_controllers.empty())
    line("not enforced:", fmt::format("{} (controllers missing)", fmt::join(choice.missing_controllers, ", ")));
  if (choice.fixes.empty()) {
    out += "Full enforcement: nothing to do.\n";
  } else {
    out += "To get full, kernel-enforced ceilings:\n";
    for (const auto& fix : choice.fixes) out += fmt::format("  - {}\n", fix);
  }
  return out;
}

}  // namespace guardian::limits
