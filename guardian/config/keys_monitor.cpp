#include <array>

#include "guardian/config/schema_keys.hpp"

namespace guardian::config {

// Settings of the progressive monitor, thresholds and the protector (guardian/monitor/).
void add_monitor_keys(std::vector<KeySpec>& table) {
  using K = ValueKind;
  table.insert(table.end(), {
      {"monitor.level", K::choice, "auto", "GUARDIAN_LEVEL", "level",
       "Monitor level: auto (escalates and calms down by itself) or pinned to idle, normal, intensive "
       "or critical.",
       {"auto", "idle", "normal", "intensive", "critical"}},
      {"monitor.calm_period", K::duration, "60s", "GUARDIAN_CALM_PERIOD", "calm-period",
       "Time without a warning before the monitor steps down one level.", {}},
      {"monitor.idle_after", K::duration, "5m", "GUARDIAN_IDLE_AFTER", "",
       "Time the tree must stay nearly idle (under monitor.idle_cpu) before the monitor goes IDLE.", {}},
      {"monitor.idle_cpu", K::percent, "1%", "", "",
       "CPU of one core under which the tree counts as nearly idle.", {}},
      {"monitor.persistence", K::integer, "2", "GUARDIAN_MONITOR_PERSISTENCE", "",
       "Consecutive checks a threshold must hold before its condition is raised (or cleared).", {}},
      {"monitor.hysteresis", K::percent, "5%", "", "",
       "How far (percentage points) below a threshold a value must fall before its condition clears.", {}},
      {"monitor.disks", K::string, ".", "GUARDIAN_DISKS", "",
       "Filesystems to watch, as paths on them (comma-separated or a TOML array).", {}},
      {"monitor.history", K::integer, "1000", "", "",
       "Snapshots kept in memory for the status API.", {}},
  });

  // Check and report intervals per level.
  struct LevelDefaults {
    const char* level;
    const char* check;
    const char* report;
  };
  constexpr std::array<LevelDefaults, 4> levels{{
      {"idle", "30s", "5m"}, {"normal", "5s", "1m"}, {"intensive", "1s", "10s"}, {"critical", "500ms", "2s"}}};
  for (const auto& level : levels) {
    std::string prefix = std::string("monitor.") + level.level;
    table.push_back({prefix + ".check_interval", K::duration, level.check, "", "",
                     std::string("How often the monitor samples the tree at ") + level.level + " level.", {}});
    table.push_back({prefix + ".report_interval", K::duration, level.report, "", "",
                     std::string("How often it prints a status line and logs a report at ") + level.level +
                         " level.",
                     {}});
  }

  // Thresholds: a table per mode, and mode-independent overrides for this run.
  struct Metric {
    const char* name;
    const char* warning;
    const char* critical;
    const char* what;
  };
  constexpr std::array<Metric, 3> metrics{{{"cpu", "70%", "85%", "tree CPU, of the CPU ceiling"},
                                           {"memory", "75%", "90%", "tree memory, of the memory ceiling"},
                                           {"disk", "80%", "95%", "used space of a watched filesystem"}}};
  for (const char* mode : {"dev", "test", "prod"}) {
    for (const auto& metric : metrics) {
      std::string key = std::string("thresholds.") + mode + "." + metric.name;
      table.push_back({key + "_warning", K::percent, metric.warning, "", "",
                       std::string("Warning threshold in ") + mode + " mode: " + metric.what + ".", {}});
      table.push_back({key + "_critical", K::percent, metric.critical, "", "",
                       std::string("Critical threshold in ") + mode + " mode: " + metric.what + ".", {}});
    }
  }
  for (const auto& metric : metrics) {
    std::string key = std::string("thresholds.") + metric.name;
    std::string env = std::string("GUARDIAN_") + (metric.name[0] == 'c' ? "CPU" : metric.name[0] == 'm' ? "MEMORY" : "DISK");
    table.push_back({key + "_warning", K::percent, "", env + "_WARNING", "",
                     std::string("Warning threshold for every mode (overrides thresholds.<mode>): ") + metric.what +
                         ".",
                     {}});
    table.push_back({key + "_critical", K::percent, "", env + "_CRITICAL", "",
                     std::string("Critical threshold for every mode (overrides thresholds.<mode>): ") +
                         metric.what + ".",
                     {}});
  }

  // The resource protector.
  table.insert(table.end(), {
      {"protector.mode", K::choice, "", "GUARDIAN_PROTECT", "protect",
       "What the protector may do to a process that monopolises the tree: off, renice (nice 19, idle IO) "
       "or kill (renice, then SIGTERM/SIGKILL after the grace period). Default: the mode's "
       "protector.<mode>.mode.",
       {"off", "renice", "kill"}},
      {"protector.dev.mode", K::choice, "renice", "", "", "Protector action in dev mode.", {"off", "renice", "kill"}},
      {"protector.test.mode", K::choice, "kill", "", "", "Protector action in test mode.", {"off", "renice", "kill"}},
      {"protector.prod.mode", K::choice, "renice", "", "", "Protector action in prod mode.", {"off", "renice", "kill"}},
      {"protector.cpu_share", K::percent, "80%", "GUARDIAN_PROTECT_CPU", "",
       "A single process above this share of the tree's CPU ceiling monopolises it.", {}},
      {"protector.memory_share", K::percent, "80%", "GUARDIAN_PROTECT_MEMORY", "",
       "A single process above this share of the tree's memory ceiling monopolises it.", {}},
      {"protector.persistence", K::integer, "3", "", "",
       "Consecutive checks a process must monopolise before the protector acts.", {}},
      {"protector.grace", K::duration, "30s", "GUARDIAN_PROTECT_GRACE", "",
       "In kill mode: how long a reniced process may keep monopolising before SIGTERM.", {}},
      {"protector.kill_after", K::duration, "5s", "", "",
       "Time between the protector's SIGTERM and SIGKILL.", {}},
      {"protector.breaker_actions", K::integer, "5", "", "",
       "Circuit breaker: after this many actions within protector.breaker_window the protector stops "
       "acting and raises a critical condition instead.", {}},
      {"protector.breaker_window", K::duration, "10m", "", "", "Circuit breaker window.", {}},
      {"protector.protected", K::string, "", "GUARDIAN_PROTECTED", "",
       "Processes never touched: shell patterns matched against the process name and its command line "
       "(comma-separated or a TOML array). The command's own process is always protected.", {}},
      {"protector.disposable", K::string, "", "GUARDIAN_DISPOSABLE", "",
       "Paths whose contents may be deleted when a watched disk passes its warning threshold, e.g. "
       "[\".pytest_cache\", \"tmp\"] (relative to the working directory). Nothing else is ever deleted.", {}},
  });
}

}  // namespace guardian::config
