#pragma once
// WatchdogCadence: how long the /proc watchdog may sleep before its next sample of the tree —
// earlyoom's idea: the headroom left under each ceiling divided by the fastest the tree could
// use it up. Far below the ceilings it samples rarely (at most `slowest` apart), close to them
// every `fastest` (the duty cycle's period), and a tree filling memory steadily is sampled
// when it is expected to reach its ceiling. Pure arithmetic on what it is told, so it is
// tested on a fake clock.
#include <chrono>
#include <cstdint>
#include <optional>

namespace guardian::limits {

struct CadenceSettings {
  std::chrono::milliseconds fastest{200};  // near a ceiling; also the duty cycle's period
  std::chrono::milliseconds slowest{1000};
  /// Never sooner than this, even when a steady fill is predicted to cross sooner.
  std::chrono::milliseconds floor{10};
  double cpus = 1;  // CPUs the tree may run on (all of them may fill memory or spin at once)
  /// The fastest one CPU can grow a process's resident memory. Measured with
  /// bench/limits_ceilings/memory_fill_rate (touching fresh anonymous pages): ≈ 2 GiB/s per
  /// thread on the development machine (Debian 12, 2 cores, THP "madvise"); assumed 4× that,
  /// for faster machines and transparent huge pages "always" (earlyoom assumes 6 000 MiB/s).
  double fill_bytes_per_sec_per_cpu = 8.0 * 1024 * 1024 * 1024;
  std::optional<std::uint64_t> memory_ceiling_bytes;
  std::optional<double> cpu_ceiling_cores;
  /// CPU the duty cycle lets a tree owe before it holds it back (DutyCycle's debt bound), in
  /// periods of the ceiling: how long a tree may spin unseen without the average moving.
  double cpu_debt_periods = 4;
};

class WatchdogCadence {
 public:
  using Clock = std::chrono::steady_clock;
  explicit WatchdogCadence(CadenceSettings settings) : settings_(settings) {}

  /// After a sample at `now` with the tree at `memory_bytes` resident and `cpu_usec` of CPU
  /// (cumulative); `cpu_held` when the duty cycle holds the tree back in this period. Returns
  /// how long until the next sample.
  std::chrono::microseconds next(Clock::time_point now, std::uint64_t memory_bytes, std::uint64_t cpu_usec,
                                 bool cpu_held);

  const CadenceSettings& settings() const { return settings_; }

 private:
  std::chrono::microseconds memory_delay(double elapsed_sec, std::uint64_t memory_bytes) const;
  std::chrono::microseconds cpu_delay(double elapsed_sec, std::uint64_t cpu_usec, bool cpu_held) const;

  CadenceSettings settings_;
  std::optional<Clock::time_point> last_time_;
  std::uint64_t last_memory_bytes_ = 0;
  std::uint64_t last_cpu_usec_ = 0;
};

}  // namespace guardian::limits
