#pragma once
// MemoryThrottleWatch: decides, from periodic readings of the ceilings node's memory.events
// "high" counter and memory.pressure "full" stall time, when a tree has stayed throttled at
// memory.high for longer than its window — so a tree the kernel throttles forever (reclaim
// keeps finding a few file pages, memory.max is never reached, no OOM kill) ends in a named
// kill instead of a hang (systemd-oomd's idea, per run). Pure logic: the limiter feeds it.
#include <chrono>
#include <cstdint>
#include <optional>

namespace guardian::limits {

class MemoryThrottleWatch {
 public:
  using Clock = std::chrono::steady_clock;
  struct Reading {
    Clock::time_point at;
    std::uint64_t high_events = 0;                 // memory.events "high" of the ceilings node
    std::optional<std::uint64_t> full_stall_usec;  // memory.pressure "full total" (empty: no PSI)
  };

  /// A tick counts as throttled when the kernel throttled the tree (high events rose) and,
  /// when PSI is there, every task of the tree stalled on memory for at least this share of
  /// it: a tree that merely reclaims its page cache at memory.high is not stalled.
  static constexpr double kStalledShare = 0.5;

  explicit MemoryThrottleWatch(std::chrono::milliseconds window) : window_(window) {}

  /// Feeds one reading; true once the tree has been throttled without a break for the window.
  bool update(const Reading& reading);
  /// How long the current uninterrupted throttling has lasted (0 when not throttled).
  std::chrono::milliseconds throttled() const;
  /// Whether the last tick was throttled (the caller keeps ticking while it is).
  bool throttling() const { return streak_start_.has_value(); }
  std::chrono::milliseconds window() const { return window_; }

 private:
  std::chrono::milliseconds window_;
  std::optional<Reading> last_;
  std::optional<Clock::time_point> streak_start_;
  Clock::time_point last_at_{};
};

}  // namespace guardian::limits
