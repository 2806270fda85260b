#include "guardian/config/schema_keys.hpp"

namespace guardian::config {

// Settings of resource ceilings: the ceilings of each mode (dev, test, prod), the overrides
// that replace them (--cpu, --memory, --pids, --memory-high), and the backend's knobs.
// Interpreted by limits/ceilings.cpp and limits/make_limiter.cpp.
void add_limits_keys(std::vector<KeySpec>& table) {
  using K = ValueKind;
  table.insert(table.end(), {
      {"limits.disabled", K::boolean, "false", "GUARDIAN_NO_LIMITS", "no-limits",
       "Enforce no ceilings (the process tree is still ended with the command).", {}},
      {"limits.backend", K::choice, "auto", "GUARDIAN_LIMITS_BACKEND", "limits-backend",
       "How ceilings are enforced: auto (cgroup v2 when usable, else the /proc watchdog), "
       "cgroup_v2 (fail if unusable), watchdog, or none.",
       {"auto", "cgroup_v2", "watchdog", "none"}},
      {"limits.modes.dev.cpu", K::percent, "75%", "", "",
       "CPU ceiling in dev mode: a share of all cores (or of the enclosing cgroup's cpu.max).", {}},
      {"limits.modes.dev.memory", K::percent, "80%", "", "",
       "RAM ceiling in dev mode: a share of the machine's RAM (or of the enclosing memory.max).", {}},
      {"limits.modes.test.cpu", K::percent, "85%", "", "", "CPU ceiling in test mode (share of all cores).", {}},
      {"limits.modes.test.memory", K::percent, "85%", "", "", "RAM ceiling in test mode (share of RAM).", {}},
      {"limits.modes.prod.cpu", K::percent, "90%", "", "", "CPU ceiling in prod mode (share of all cores).", {}},
      {"limits.modes.prod.memory", K::percent, "90%", "", "", "RAM ceiling in prod mode (share of RAM).", {}},
      {"limits.cpu", K::cores_or_percent, "", "GUARDIAN_CPU", "cpu",
       "CPU ceiling for the whole tree, replacing the mode's: cores (1.5) or a percentage of one "
       "core (150%).", {}},
      {"limits.memory", K::bytes_or_percent, "", "GUARDIAN_MEMORY", "memory",
       "RAM ceiling for the whole tree, replacing the mode's: a size (2G) or a share of RAM (50%).", {}},
      {"limits.pids", K::integer, "", "GUARDIAN_PIDS", "pids",
       "Most processes and threads the tree may have at once (fork bombs stop here; unset: no limit).", {}},
      {"limits.memory_high", K::bytes_or_percent, "", "GUARDIAN_MEMORY_HIGH", "memory-high",
       "Soft memory ceiling where the kernel starts reclaiming and throttling: a share of the memory "
       "ceiling (90%) or a size. Unset: 90% when the tree may swap, else the ceiling itself (without "
       "swap the kernel can throttle a tree at memory.high forever instead of killing it).", {}},
      {"limits.memory_high_stall", K::duration, "2s", "GUARDIAN_MEMORY_HIGH_STALL", "",
       "cgroup v2 backend: how long the tree may stay throttled at memory.high (stalled on memory) "
       "before guardian kills it as a memory-ceiling breach.", {}},
      {"limits.pids_grace", K::duration, "3s", "GUARDIAN_PIDS_GRACE", "",
       "cgroup v2 backend: how long the kernel may keep refusing the tree's forks at its pids ceiling "
       "(a fork bomb) before guardian ends the tree (killed_by pids_ceiling).", {}},
      {"limits.swap", K::bytes_or_percent, "0", "GUARDIAN_SWAP", "swap",
       "Swap the tree may use (0: none, so a breach cannot hide in swap), a size or a share of the "
       "memory ceiling.", {}},
      {"limits.watchdog.interval", K::duration, "200ms", "GUARDIAN_WATCHDOG_INTERVAL", "",
       "Watchdog backend: how often the tree is sampled from /proc (also its CPU duty-cycle period).", {}},
      {"limits.watchdog.memory_grace", K::duration, "1s", "GUARDIAN_WATCHDOG_MEMORY_GRACE", "",
       "Watchdog backend: time between SIGTERM and SIGKILL after a memory-ceiling breach.", {}},
      {"limits.cgroup_kill", K::choice, "auto", "GUARDIAN_CGROUP_KILL", "",
       "cgroup v2 backend: how the tree is killed at the end: auto (cgroup.kill when the kernel has it, "
       "Linux 5.14+) or freeze (freeze, SIGKILL each process, thaw: the way for older kernels).",
       {"auto", "freeze"}},
  });
}

}  // namespace guardian::config
