#pragma once
// ProgressiveMonitor: the pure level state machine (IDLE/NORMAL/INTENSIVE/CRITICAL) — it
// is told the time, the tree's CPU and the conditions in force, and says when and why
// the level changes. No I/O, no timers: the run's Monitor drives it, tests use a fake clock.
//
// Rules:
//  - a critical condition (held or one-off) takes the level to CRITICAL at once; a warning
//    condition or a heavy phase to at least INTENSIVE;
//  - a level above NORMAL is left one step down once nothing has demanded it for the calm
//    period (CRITICAL: no critical condition; INTENSIVE: no warning, critical or heavy phase),
//    and each level is held at least one calm period: after a recovery (a server up again)
//    CRITICAL → INTENSIVE takes one calm period and INTENSIVE → NORMAL another, by design
//    (a flapping cause would otherwise step the cadence up and down with every probe);
//  - NORMAL becomes IDLE after the tree has stayed under idle_cpu_percent of one core, with
//    no condition, for idle_after; IDLE becomes NORMAL as soon as the tree is busy again;
//  - a pinned level never changes (conditions are still tracked, for the report).
#include <chrono>
#include <map>
#include <optional>
#include <string>

#include "guardian/monitor/level.hpp"

namespace guardian::monitor {

using SteadyTime = std::chrono::steady_clock::time_point;

enum class Severity { warning, critical };
std::string_view to_string(Severity severity);

struct LevelChange {
  Level from = Level::normal;
  Level to = Level::normal;
  std::string reason;
  SteadyTime at{};
};

struct ProgressiveSettings {
  std::chrono::milliseconds calm_period{std::chrono::seconds(60)};
  std::chrono::milliseconds idle_after{std::chrono::minutes(5)};
  double idle_cpu_percent = 1.0;  // of one core
  std::optional<Level> pinned;    // --level
  Level initial = Level::normal;
};

class ProgressiveMonitor {
 public:
  ProgressiveMonitor(ProgressiveSettings settings, SteadyTime start);

  Level level() const { return level_; }
  /// Why the monitor is at its level ("start", "cpu at 91% of the ceiling", "calm for 1m").
  const std::string& reason() const { return reason_; }
  bool pinned() const { return settings_.pinned.has_value(); }

  /// One check: the tree's CPU in % of one core (empty on the first sample, which has no rate).
  std::optional<LevelChange> observe(SteadyTime now, std::optional<double> tree_cpu_percent);

  /// A condition held until cleared (a threshold, "server api is down"). Raising an
  /// existing key updates its severity and reason.
  std::optional<LevelChange> raise(SteadyTime now, const std::string& key, Severity severity,
                                   const std::string& reason);
  std::optional<LevelChange> clear(SteadyTime now, const std::string& key);
  /// A one-off event (a ceiling kill, the protector's breaker): demands its level now,
  /// then calms down like any other.
  std::optional<LevelChange> pulse(SteadyTime now, Severity severity, const std::string& reason);

  /// Code running a heavy phase asks for at least INTENSIVE until it ends the phase.
  std::optional<LevelChange> begin_heavy_phase(SteadyTime now, const std::string& name);
  std::optional<LevelChange> end_heavy_phase(SteadyTime now, const std::string& name);

  /// The conditions in force, by key.
  struct Condition {
    Severity severity = Severity::warning;
    std::string reason;
  };
  const std::map<std::string, Condition>& conditions() const { return conditions_; }

  /// Time spent at each level up to `now`, and how many times each was entered.
  std::map<Level, std::chrono::milliseconds> time_per_level(SteadyTime now) const;
  const std::map<Level, int>& visits() const { return visits_; }

 private:
  std::optional<LevelChange> evaluate(SteadyTime now);
  std::optional<LevelChange> move_to(SteadyTime now, Level to, std::string reason);
  void note_demands(SteadyTime now);

  ProgressiveSettings settings_;
  Level level_;
  std::string reason_ = "start";
  SteadyTime entered_at_;
  std::map<std::string, Condition> conditions_;
  std::map<std::string, int> heavy_phases_;
  std::optional<SteadyTime> last_critical_demand_;
  std::optional<SteadyTime> last_intensive_demand_;  // any demand for INTENSIVE or above
  std::string last_demand_reason_;
  std::optional<double> cpu_percent_;
  std::optional<SteadyTime> quiet_since_;  // under idle_cpu_percent with no condition since
  std::optional<SteadyTime> last_observed_;
  std::map<Level, std::chrono::milliseconds> time_per_level_;
  std::map<Level, int> visits_;
};

}  // namespace guardian::monitor
