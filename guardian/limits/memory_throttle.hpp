#pragma once
// MemoryThrottleWatch: decides, from periodic readings of the ceilings node (is memory.current
// above memory.high; memory.pressure's "full" stall time), when a tree has stayed throttled at
// memory.high for longer than its window — so a tree the kernel throttles forever (reclaim
// keeps finding a few file pages, memory.max is never reached, no OOM kill) ends in a named
// kill instead of a hang (systemd-oomd's idea, per run). Pure logic: the limiter feeds it.
#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>

namespace guardian::limits {

class MemoryThrottleWatch {
 public:
  using Clock = std::chrono::steady_clock;
  struct Reading {
    Clock::time_point at;
    bool over_high = false;                        // memory.current above memory.high
    std::optional<std::uint64_t> full_stall_usec;  // memory.pressure "full total" (empty: no PSI)
  };

  /// Over the last window, the tree's tasks must all have been stalled on memory for at least
  /// this share of the time (the kernel's throttling sleeps and reclaim count as stalls): a tree
  /// that merely reclaims its page cache at memory.high is not stalled. Per tick it varies a
  /// lot (the kernel throttles in sleeps of up to 2 s), so it is judged over the whole window.
  static constexpr double kStalledShare = 0.5;

  explicit MemoryThrottleWatch(std::chrono::milliseconds window) : window_(window) {}

  /// Feeds one reading; true once the tree has been over memory.high without a break for the
  /// window and stalled for most of it.
  bool update(const Reading& reading);
  /// How long the tree has been over memory.high without a break (0 when it is not).
  std::chrono::milliseconds throttled() const;
  /// Whether the tree is over memory.high (the caller keeps reading while it is).
  bool throttling() const { return streak_start_.has_value(); }

 private:
  std::chrono::milliseconds window_;
  std::deque<Reading> recent_;  // readings of the current streak, back to a window ago
  std::optional<Clock::time_point> streak_start_, last_at_;
};

}  // namespace guardian::limits
