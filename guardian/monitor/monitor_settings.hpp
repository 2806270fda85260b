#pragma once
// MonitorSettings: everything the monitor and the protector are configured with, resolved
// from the configuration for the run's mode (keys in config/keys_monitor.cpp).
#include <filesystem>
#include <string>
#include <vector>

#include "guardian/config/config.hpp"
#include "guardian/monitor/level.hpp"
#include "guardian/monitor/progressive_monitor.hpp"
#include "guardian/monitor/resource_protector.hpp"
#include "guardian/monitor/threshold_tracker.hpp"

namespace guardian::monitor {

struct MonitorSettings {
  IntervalTable intervals;
  ProgressiveSettings progressive;
  ThresholdPolicy threshold_policy;
  Thresholds cpu{70, 85};
  Thresholds memory{75, 90};
  Thresholds disk{80, 95};
  std::vector<std::filesystem::path> disks;  // absolute
  std::size_t history = 1000;
  ProtectorPolicy protector;
  std::vector<std::filesystem::path> disposable;  // absolute

  /// Throws config::ConfigError for settings that cannot work (a disposable path that is the
  /// working directory, a warning above its critical threshold, …), saying what to change.
  static MonitorSettings from_config(const config::Config& config, const std::string& mode,
                                     const std::filesystem::path& working_dir);

  nlohmann::json to_json() const;
};

/// "a, b ,c" → {"a", "b", "c"} (empty items dropped).
std::vector<std::string> split_list(std::string_view text);

}  // namespace guardian::monitor
