#include "guardian/limits/watchdog_cadence.hpp"

#include <algorithm>

namespace guardian::limits {
namespace {

using std::chrono::microseconds;

microseconds from_seconds(double seconds) {
  return microseconds(static_cast<std::int64_t>(std::min(seconds, 3600.0) * 1e6));
}

}  // namespace

microseconds WatchdogCadence::memory_delay(double elapsed_sec, std::uint64_t memory_bytes) const {
  const auto ceiling = *settings_.memory_ceiling_bytes;
  const double headroom = memory_bytes < ceiling ? static_cast<double>(ceiling - memory_bytes) : 0.0;
  // The worst case decides how far apart samples may be, within [fastest, slowest]: the
  // overshoot of a sudden fill is never more than what `fastest` allows (as before).
  const double worst_rate = settings_.fill_bytes_per_sec_per_cpu * std::max(1.0, settings_.cpus);
  microseconds delay = std::clamp(from_seconds(headroom / worst_rate), microseconds(settings_.fastest),
                                  microseconds(settings_.slowest));
  // A tree that is filling steadily is looked at when it should reach the ceiling: the kill
  // comes right after the crossing instead of up to `fastest` later.
  if (elapsed_sec > 0 && memory_bytes > last_memory_bytes_) {
    const double rate = static_cast<double>(memory_bytes - last_memory_bytes_) / elapsed_sec;
    delay = std::min(delay, std::max(microseconds(settings_.floor), from_seconds(headroom / rate)));
  }
  return delay;
}

microseconds WatchdogCadence::cpu_delay(double elapsed_sec, std::uint64_t cpu_usec, bool cpu_held) const {
  const double ceiling = *settings_.cpu_ceiling_cores;
  const double cpus = std::max(1.0, settings_.cpus);
  if (ceiling >= cpus) return settings_.slowest;  // the tree cannot use more than the ceiling
  if (cpu_held) return settings_.fastest;         // the duty cycle works period by period
  // A tree that already uses more than half its ceiling is near it: the duty cycle may have to
  // start holding it in the next period.
  if (elapsed_sec > 0 && cpu_usec > last_cpu_usec_ &&
      static_cast<double>(cpu_usec - last_cpu_usec_) / 1e6 / elapsed_sec >= ceiling / 2)
    return settings_.fastest;
  // Otherwise the tree may start spinning on every CPU at once; what it uses beyond the
  // ceiling before the next sample is debt the duty cycle repays (DutyCycle bounds the debt
  // at cpu_debt_periods periods of the ceiling, and credit at one period), so the sample
  // must come before the debt could exceed that bound.
  const double period_sec = std::chrono::duration<double>(settings_.fastest).count();
  const double allowance = ceiling * period_sec * (1 + settings_.cpu_debt_periods);
  return std::clamp(from_seconds(allowance / (cpus - ceiling)), microseconds(settings_.fastest),
                    microseconds(settings_.slowest));
}

microseconds WatchdogCadence::next(Clock::time_point now, std::uint64_t memory_bytes, std::uint64_t cpu_usec,
                                   bool cpu_held) {
  const double elapsed_sec = last_time_ ? std::chrono::duration<double>(now - *last_time_).count() : 0.0;
  microseconds delay = settings_.slowest;
  if (settings_.memory_ceiling_bytes) delay = std::min(delay, memory_delay(elapsed_sec, memory_bytes));
  if (settings_.cpu_ceiling_cores) delay = std::min(delay, cpu_delay(elapsed_sec, cpu_usec, cpu_held));
  last_time_ = now;
  last_memory_bytes_ = memory_bytes;
  last_cpu_usec_ = cpu_usec;
  return std::max(delay, microseconds(settings_.floor));
}

}  // namespace guardian::limits
