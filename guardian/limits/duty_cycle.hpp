#pragma once
// DutyCycle: decides, period by period, how long a CPU-hungry tree may run so that its
// average CPU use stays at the ceiling — the watchdog's way to hold a CPU ceiling with
// SIGSTOP/SIGCONT where the kernel's cpu.max is not available. Pure arithmetic on the
// times and CPU totals it is given, so it is tested on a fake clock.
#include <chrono>
#include <cstdint>
#include <optional>

namespace guardian::limits {

class DutyCycle {
 public:
  using Clock = std::chrono::steady_clock;

  DutyCycle(double ceiling_cores, std::chrono::microseconds period);

  /// Called at the start of each period with the tree's cumulative CPU time (monotonic);
  /// returns how long the tree may run in the period that starts now (== period: not held).
  std::chrono::microseconds next_run(Clock::time_point now, std::uint64_t cpu_usec);

  double ceiling_cores() const { return ceiling_cores_; }
  std::chrono::microseconds period() const { return period_; }
  std::uint64_t held_usec() const { return held_usec_; }          // total time the tree was held
  std::uint64_t held_periods() const { return held_periods_; }    // periods with a pause
  double demand_cores() const { return demand_cores_; }           // CPU use while running

 private:
  double ceiling_cores_;
  std::chrono::microseconds period_;
  std::optional<Clock::time_point> last_time_;
  std::uint64_t last_cpu_usec_ = 0;
  std::chrono::microseconds last_run_{0};
  // Running time and CPU use since the demand was last measured.
  static constexpr double kMeasureUsec = 50000;
  double measured_ran_usec_ = 0;
  double measured_used_usec_ = 0;
  double credit_usec_ = 0;  // CPU the tree may still use (negative: used too much)
  double demand_cores_ = 1;  // until measured: one busy core
  std::uint64_t held_usec_ = 0;
  std::uint64_t held_periods_ = 0;
};

}  // namespace guardian::limits
