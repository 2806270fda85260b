#include "guardian/monitor/progressive_monitor.hpp"

#include <fmt/format.h>

#include "guardian/config/quantity.hpp"

namespace guardian::monitor {

namespace {
std::chrono::milliseconds since(SteadyTime now, SteadyTime then) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(now - then);
}
}  // namespace

std::string_view to_string(Severity severity) {
  return severity == Severity::critical ? "critical" : "warning";
}

ProgressiveMonitor::ProgressiveMonitor(ProgressiveSettings settings, SteadyTime start)
    : settings_(std::move(settings)),
      level_(settings_.pinned.value_or(settings_.initial)),
      entered_at_(start) {
  if (settings_.pinned) reason_ = "pinned by --level";
  visits_[level_] = 1;
}

std::optional<LevelChange> ProgressiveMonitor::observe(SteadyTime now, std::optional<double> tree_cpu_percent) {
  if (tree_cpu_percent) cpu_percent_ = tree_cpu_percent;
  bool quiet = tree_cpu_percent && *tree_cpu_percent < settings_.idle_cpu_percent && conditions_.empty() &&
               heavy_phases_.empty();
  // The CPU figure is a rate over the time since the previous check: a quiet reading
  // means the tree has been quiet since then.
  if (!quiet) quiet_since_.reset();
  else if (!quiet_since_) quiet_since_ = last_observed_.value_or(now);
  last_observed_ = now;
  return evaluate(now);
}

std::optional<LevelChange> ProgressiveMonitor::raise(SteadyTime now, const std::string& key, Severity severity,
                                                     const std::string& reason) {
  conditions_[key] = Condition{severity, reason};
  quiet_since_.reset();
  return evaluate(now);
}

std::optional<LevelChange> ProgressiveMonitor::clear(SteadyTime now, const std::string& key) {
  // The demand lasted until now: the calm period starts when the condition ends.
  note_demands(now);
  conditions_.erase(key);
  return evaluate(now);
}

std::optional<LevelChange> ProgressiveMonitor::pulse(SteadyTime now, Severity severity, const std::string& reason) {
  last_intensive_demand_ = now;
  if (severity == Severity::critical) last_critical_demand_ = now;
  last_demand_reason_ = reason;
  quiet_since_.reset();
  Level floor = severity == Severity::critical ? Level::critical : Level::intensive;
  if (!pinned() && level_ < floor) return move_to(now, floor, reason);
  return evaluate(now);
}

std::optional<LevelChange> ProgressiveMonitor::begin_heavy_phase(SteadyTime now, const std::string& name) {
  ++heavy_phases_[name];
  quiet_since_.reset();
  return evaluate(now);
}

std::optional<LevelChange> ProgressiveMonitor::end_heavy_phase(SteadyTime now, const std::string& name) {
  auto it = heavy_phases_.find(name);
  if (it == heavy_phases_.end()) return evaluate(now);
  note_demands(now);
  if (--it->second <= 0) heavy_phases_.erase(it);
  return evaluate(now);
}

void ProgressiveMonitor::note_demands(SteadyTime now) {
  for (const auto& [key, condition] : conditions_) {
    last_intensive_demand_ = now;
    if (condition.severity == Severity::critical) last_critical_demand_ = now;
  }
  if (!heavy_phases_.empty()) last_intensive_demand_ = now;
}

std::optional<LevelChange> ProgressiveMonitor::evaluate(SteadyTime now) {
  note_demands(now);
  if (pinned()) return std::nullopt;

  // Escalation: the most severe condition in force sets a floor.
  const Condition* worst = nullptr;
  for (const auto& [key, condition] : conditions_)
    if (!worst || condition.severity > worst->severity) worst = &condition;
  Level floor = Level::idle;
  std::string floor_reason;
  if (worst) {
    floor = worst->severity == Severity::critical ? Level::critical : Level::intensive;
    floor_reason = worst->reason;
  }
  if (floor < Level::intensive && !heavy_phases_.empty()) {
    floor = Level::intensive;
    floor_reason = fmt::format("heavy phase '{}'", heavy_phases_.begin()->first);
  }
  if (floor > level_) return move_to(now, floor, floor_reason);

  // Waking up from IDLE.
  if (level_ == Level::idle) {
    if (cpu_percent_ && *cpu_percent_ >= settings_.idle_cpu_percent)
      return move_to(now, Level::normal, fmt::format("tree busy again ({:.1f}% of a core)", *cpu_percent_));
    return std::nullopt;
  }

  // Calming down, one level per calm period.
  if (level_ > Level::normal && level_ > floor) {
    auto last_demand = level_ == Level::critical ? last_critical_demand_ : last_intensive_demand_;
    SteadyTime calm_since = last_demand && *last_demand > entered_at_ ? *last_demand : entered_at_;
    if (since(now, calm_since) >= settings_.calm_period) {
      std::string what = level_ == Level::critical ? "no critical condition" : "no warning";
      return move_to(now, one_down(level_),
                     fmt::format("calm: {} for {}", what, config::format_duration(settings_.calm_period)));
    }
    return std::nullopt;
  }

  // Dozing off.
  if (level_ == Level::normal && quiet_since_) {
    SteadyTime quiet_from = *quiet_since_ > entered_at_ ? *quiet_since_ : entered_at_;
    if (since(now, quiet_from) >= settings_.idle_after)
      return move_to(now, Level::idle,
                     fmt::format("tree nearly idle (under {}% of a core) for {}", settings_.idle_cpu_percent,
                                 config::format_duration(settings_.idle_after)));
  }
  return std::nullopt;
}

std::optional<LevelChange> ProgressiveMonitor::move_to(SteadyTime now, Level to, std::string reason) {
  if (to == level_) return std::nullopt;
  time_per_level_[level_] += since(now, entered_at_);
  LevelChange change{level_, to, reason, now};
  level_ = to;
  reason_ = std::move(reason);
  entered_at_ = now;
  visits_[to] += 1;
  if (to != Level::idle) quiet_since_.reset();
  return change;
}

std::map<Level, std::chrono::milliseconds> ProgressiveMonitor::time_per_level(SteadyTime now) const {
  auto out = time_per_level_;
  out[level_] += since(now, entered_at_);
  return out;
}

}  // namespace guardian::monitor
