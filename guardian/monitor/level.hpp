#pragma once
// The monitor's attention levels and how often each one checks and reports.
#include <array>
#include <chrono>
#include <optional>
#include <string_view>

namespace guardian::monitor {

/// Ordered from least to most attentive: comparisons (level >= Level::intensive) are meaningful.
enum class Level { idle = 0, normal = 1, intensive = 2, critical = 3 };

inline constexpr std::array<Level, 4> kAllLevels{Level::idle, Level::normal, Level::intensive,
                                                 Level::critical};

/// "IDLE", "NORMAL", "INTENSIVE", "CRITICAL".
std::string_view to_string(Level level);
/// Case-insensitive "idle", "NORMAL", …; empty when unknown.
std::optional<Level> parse_level(std::string_view text);

Level one_up(Level level);
Level one_down(Level level);

/// How often a level samples the tree and how often it prints/logs a status report.
struct LevelIntervals {
  std::chrono::milliseconds check_interval;
  std::chrono::milliseconds report_interval;
};

/// The intervals of every level, indexed by static_cast<int>(Level).
struct IntervalTable {
  std::array<LevelIntervals, 4> by_level{{
      {std::chrono::seconds(30), std::chrono::minutes(5)},        // IDLE
      {std::chrono::seconds(5), std::chrono::minutes(1)},         // NORMAL
      {std::chrono::seconds(1), std::chrono::seconds(10)},        // INTENSIVE
      {std::chrono::milliseconds(500), std::chrono::seconds(2)},  // CRITICAL
  }};
  const LevelIntervals& operator[](Level level) const { return by_level[static_cast<std::size_t>(level)]; }
  LevelIntervals& operator[](Level level) { return by_level[static_cast<std::size_t>(level)]; }
};

}  // namespace guardian::monitor
