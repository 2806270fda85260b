#include "guardian/monitor/threshold_tracker.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace guardian::monitor {

std::string_view to_string(ConditionState state) {
  switch (state) {
    case ConditionState::ok: return "ok";
    case ConditionState::warning: return "warning";
    case ConditionState::critical: return "critical";
  }
  return "unknown";
}

std::optional<Severity> severity_of(ConditionState state) {
  if (state == ConditionState::warning) return Severity::warning;
  if (state == ConditionState::critical) return Severity::critical;
  return std::nullopt;
}

ThresholdTracker::ThresholdTracker(std::string metric, Thresholds thresholds, ThresholdPolicy policy)
    : metric_(std::move(metric)), thresholds_(thresholds), policy_(policy) {
  if (policy_.persistence_checks < 1) policy_.persistence_checks = 1;
}

std::optional<ConditionChange> ThresholdTracker::update(double value) {
  last_rise_ = value - last_value_;
  last_value_ = value;
  auto streak = [](int& counter, bool holds) { counter = holds ? counter + 1 : 0; };
  streak(above_warning_, value >= thresholds_.warning_percent);
  streak(above_critical_, value >= thresholds_.critical_percent);
  // The margin never exceeds half the threshold, so a low threshold (5%) can still clear.
  auto below = [this](double threshold) { return threshold - std::min(policy_.hysteresis_percent, threshold / 2); };
  streak(below_warning_, value < below(thresholds_.warning_percent));
  streak(below_critical_, value < below(thresholds_.critical_percent));

  const int n = policy_.persistence_checks;
  ConditionState next = state_;
  ConditionState crossed = ConditionState::warning;
  if (state_ != ConditionState::critical && above_critical_ >= n) {
    next = ConditionState::critical;
    crossed = ConditionState::critical;
  } else if (state_ == ConditionState::ok && above_warning_ >= n) {
    next = ConditionState::warning;
  } else if (state_ == ConditionState::critical && below_critical_ >= n) {
    // Straight back to normal leaves both behind: the warning one is the one that says so.
    next = below_warning_ >= n ? ConditionState::ok : ConditionState::warning;
    crossed = next == ConditionState::ok ? ConditionState::warning : ConditionState::critical;
  } else if (state_ == ConditionState::warning && below_warning_ >= n) {
    next = ConditionState::ok;
  }
  if (next == state_) return std::nullopt;
  const double crossed_percent =
      crossed == ConditionState::critical ? thresholds_.critical_percent : thresholds_.warning_percent;
  ConditionChange change{metric_, state_, next, value, crossed_percent, crossed};
  state_ = next;
  return change;
}

bool ThresholdTracker::wants_confirmation() const {
  if (state_ != ConditionState::critical && above_critical_ > 0) return true;
  if (state_ == ConditionState::ok && above_warning_ > 0) return true;
  return state_ != ConditionState::critical && last_rise_ >= thresholds_.critical_percent / 4;
}

bool ThresholdSet::wants_confirmation(std::initializer_list<std::string_view> metrics) const {
  for (const auto& [name, tracker] : trackers_)
    for (auto metric : metrics)
      if (std::string_view(name).starts_with(metric) && tracker.wants_confirmation()) return true;
  return false;
}

std::string describe(const ConditionChange& change) {
  const bool rise = change.to > change.from;
  const std::string crossed = fmt::format("{} the {} threshold, {:.0f}%", rise ? "over" : "back under",
                                          to_string(change.threshold), change.threshold_percent);
  if (change.metric.starts_with("disk:"))
    return fmt::format("disk {} {:.0f}% used ({})", change.metric.substr(5), change.value_percent, crossed);
  return fmt::format("{} at {:.0f}% of the ceiling ({})", change.metric, change.value_percent, crossed);
}

void ThresholdSet::define(const std::string& metric_prefix, Thresholds thresholds) {
  by_prefix_[metric_prefix] = thresholds;
}

std::optional<ConditionChange> ThresholdSet::update(const std::string& metric, double value_percent) {
  auto it = trackers_.find(metric);
  if (it == trackers_.end()) {
    std::string prefix = metric.substr(0, metric.find(':'));
    auto thresholds = by_prefix_.find(prefix);
    if (thresholds == by_prefix_.end()) return std::nullopt;  // not watched
    it = trackers_.emplace(metric, ThresholdTracker(metric, thresholds->second, policy_)).first;
  }
  return it->second.update(value_percent);
}

}  // namespace guardian::monitor
