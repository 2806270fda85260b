#pragma once
// ThresholdTracker: turns a stream of readings of one metric (CPU % of the ceiling,
// memory % of the ceiling, disk % used) into a condition — ok, warning or critical — that
// only rises after N consecutive readings past a threshold (one spike is not an alert)
// and only falls after N consecutive readings below the threshold minus a hysteresis
// margin (a value hovering at the threshold does not flap).
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "guardian/monitor/progressive_monitor.hpp"

namespace guardian::monitor {

struct Thresholds {
  double warning_percent = 70;
  double critical_percent = 85;
};

struct ThresholdPolicy {
  int persistence_checks = 2;     // consecutive readings before a condition rises or falls
  double hysteresis_percent = 5;  // percentage points below a threshold to count as "below" (at most half of it)
};

enum class ConditionState { ok, warning, critical };
std::string_view to_string(ConditionState state);
std::optional<Severity> severity_of(ConditionState state);

/// A change of one metric's condition.
struct ConditionChange {
  std::string metric;  // "cpu", "memory", "disk:/home"
  ConditionState from = ConditionState::ok;
  ConditionState to = ConditionState::ok;
  double value_percent = 0;
  double threshold_percent = 0;  // the threshold crossed (for a fall: the one left behind)
  ConditionState threshold = ConditionState::warning;  // which one that is
};

/// "cpu at 70% of the ceiling (back under the critical threshold, 90%)": the value and the
/// threshold it crossed, named (a step from critical to warning names the critical one).
std::string describe(const ConditionChange& change);

/// One metric.
class ThresholdTracker {
 public:
  ThresholdTracker(std::string metric, Thresholds thresholds, ThresholdPolicy policy);

  /// Feeds one reading; returns the change if this reading changed the condition.
  std::optional<ConditionChange> update(double value_percent);

  ConditionState state() const { return state_; }
  const std::string& metric() const { return metric_; }
  /// Whether the next reading should come soon: the last reading crossed a threshold the
  /// condition has not reached yet (it needs confirming), or rose by a quarter of the critical
  /// threshold at once (a breach starting in the middle of a sampling window shows only in
  /// part; the next, full window decides).
  bool wants_confirmation() const;
  const Thresholds& thresholds() const { return thresholds_; }

 private:
  std::string metric_;
  Thresholds thresholds_;
  ThresholdPolicy policy_;
  ConditionState state_ = ConditionState::ok;
  int above_warning_ = 0;   // consecutive readings >= warning
  int above_critical_ = 0;  // consecutive readings >= critical
  int below_warning_ = 0;   // consecutive readings < warning - hysteresis
  int below_critical_ = 0;  // consecutive readings < critical - hysteresis
  double last_value_ = 0;
  double last_rise_ = 0;     // the last reading minus the one before
};

/// Every metric the monitor watches, created on first reading.
class ThresholdSet {
 public:
  explicit ThresholdSet(ThresholdPolicy policy) : policy_(policy) {}
  void define(const std::string& metric_prefix, Thresholds thresholds);  // "cpu", "memory", "disk"

  /// `metric` is "cpu", "memory" or "disk:<path>"; its thresholds are those of its prefix.
  std::optional<ConditionChange> update(const std::string& metric, double value_percent);
  const std::map<std::string, ThresholdTracker>& trackers() const { return trackers_; }
  /// Whether any metric whose name starts with one of `metrics` wants its next reading soon.
  bool wants_confirmation(std::initializer_list<std::string_view> metrics) const;

 private:
  ThresholdPolicy policy_;
  std::map<std::string, Thresholds> by_prefix_;
  std::map<std::string, ThresholdTracker> trackers_;
};

}  // namespace guardian::monitor
