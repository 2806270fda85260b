#include "guardian/limits/duty_cycle.hpp"

#include <algorithm>

namespace guardian::limits {

DutyCycle::DutyCycle(double ceiling_cores, std::chrono::microseconds period)
    : ceiling_cores_(ceiling_cores), period_(period) {}

std::chrono::microseconds DutyCycle::next_run(Clock::time_point now, std::uint64_t cpu_usec) {
  using std::chrono::microseconds;
  const double period_usec = static_cast<double>(period_.count());
  if (!last_time_) {
    // Nothing measured yet: assume the tree can use a whole core, so a ceiling below one
    // core is not overrun by a free first period (the credit repays the rest).
    last_time_ = now;
    last_cpu_usec_ = cpu_usec;
    last_run_ = microseconds(static_cast<std::int64_t>(period_usec * std::min(1.0, ceiling_cores_)));
    if (last_run_ < period_) {
      held_usec_ += static_cast<std::uint64_t>((period_ - last_run_).count());
      ++held_periods_;
    }
    return last_run_;
  }
  const double elapsed_usec =
      std::max<double>(1, static_cast<double>(std::chrono::duration_cast<microseconds>(now - *last_time_).count()));
  // A process that ended takes its CPU time with it: never count a negative use.
  const double used_usec = cpu_usec > last_cpu_usec_ ? static_cast<double>(cpu_usec - last_cpu_usec_) : 0.0;
  // The demand is measured over runs long enough for clock-tick accounting (10 ms) to
  // resolve it: a 1 ms run that shows no CPU says nothing about a tree that is spinning.
  measured_used_usec_ += used_usec;
  // A tree that was not held ran all the time since (the watchdog samples an unheld tree
  // less often than once a period); a held one ran for its run time.
  measured_ran_usec_ += last_run_ >= period_ ? elapsed_usec
                                             : std::min<double>(static_cast<double>(last_run_.count()), elapsed_usec);
  if (measured_ran_usec_ >= kMeasureUsec) {
    demand_cores_ = measured_used_usec_ / measured_ran_usec_;
    measured_used_usec_ = measured_ran_usec_ = 0;
  }

  // The integral of (allowed - used) keeps the long-run average at the ceiling despite coarse
  // CPU accounting (clock ticks) and signal latency. Bounded: an idle tree earns no burst
  // beyond one period, and debt is repaid within a few periods.
  credit_usec_ += ceiling_cores_ * elapsed_usec - used_usec;
  credit_usec_ = std::clamp(credit_usec_, -4 * ceiling_cores_ * period_usec, ceiling_cores_ * period_usec);

  microseconds run = period_;
  const double budget_usec = ceiling_cores_ * period_usec + credit_usec_;
  if (demand_cores_ > ceiling_cores_ || credit_usec_ < 0) {
    double run_usec = demand_cores_ > 0 ? budget_usec / demand_cores_ : period_usec;
    run_usec = std::clamp(run_usec, 0.0, period_usec);
    run = microseconds(static_cast<std::int64_t>(run_usec));
  }
  if (run < period_) {
    held_usec_ += static_cast<std::uint64_t>((period_ - run).count());
    ++held_periods_;
  }
  last_time_ = now;
  last_cpu_usec_ = cpu_usec;
  last_run_ = run;
  return run;
}

}  // namespace guardian::limits
