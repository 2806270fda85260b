// A breach escalates at once: the watchdog's samples (at most a second apart far below the
// ceilings) feed the thresholds, the first reading over a threshold — or a sudden rise —
// asks for the next sample at the watchdog's fastest cadence, and two readings confirm it.
// So NORMAL → CRITICAL takes at most 1.5 s wherever the breach starts in a sampling window,
// and a single spike does not raise it. Fake clock; the real pieces (WatchdogCadence,
// Sampler::read, ThresholdSet, ProgressiveMonitor) wired as Monitor::observe_tree does.
#include <gtest/gtest.h>

#include "guardian/limits/watchdog_cadence.hpp"
#include "guardian/monitor/progressive_monitor.hpp"
#include "guardian/monitor/sampler.hpp"
#include "guardian/monitor/threshold_tracker.hpp"

namespace guardian::monitor {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
constexpr std::uint64_t GiB = 1024ull * 1024 * 1024;

// CPU use of a simulated tree: `cores` from `start` to `end`, nothing otherwise.
struct Burst {
  Clock::duration start;
  Clock::duration end;
  double cores;
  double cpu_usec_until(Clock::duration t) const {
    auto from = std::max(start, Clock::duration::zero());
    auto to = std::min(end, t);
    if (to <= from) return 0;
    return cores * static_cast<double>(std::chrono::duration_cast<std::chrono::microseconds>(to - from).count());
  }
};

// Runs the watchdog's sampling loop for `duration`; returns when the level became CRITICAL
// (relative to the simulation's start), if it did.
std::optional<Clock::duration> first_critical(const Burst& burst, Clock::duration phase, Clock::duration duration) {
  limits::CadenceSettings cadence_settings;
  cadence_settings.cpus = 2;
  cadence_settings.cpu_ceiling_cores = 1.5;  // dev mode's 75 % of 2 CPUs
  cadence_settings.memory_ceiling_bytes = 19 * GiB;
  limits::WatchdogCadence cadence(cadence_settings);
  SamplerOptions sampler_options;
  sampler_options.machine_cores = 2;
  sampler_options.host_pressure = false;
  Sampler sampler([] { return limits::TreeUsage{}; }, sampler_options);
  ThresholdSet thresholds(ThresholdPolicy{});
  thresholds.define("cpu", {70, 85});
  thresholds.define("memory", {75, 90});
  const Clock::time_point origin{};
  ProgressiveMonitor progressive(ProgressiveSettings{}, origin);

  // The first sample lands `phase` into the run: the breach starts anywhere in a window.
  Clock::duration t = phase;
  while (t < duration) {
    limits::TreeUsage usage;
    usage.cpu_usec = static_cast<std::uint64_t>(burst.cpu_usec_until(t));
    usage.memory_bytes = GiB;
    usage.cpu_ceiling_cores = 1.5;
    usage.memory_ceiling_bytes = 19 * GiB;
    const auto now = origin + t;
    const TreeReading reading = sampler.read(usage, now);
    if (reading.cpu_percent_of_ceiling)
      if (auto change = thresholds.update("cpu", *reading.cpu_percent_of_ceiling))
        if (auto severity = severity_of(change->to)) progressive.raise(now, "threshold:cpu", *severity, "cpu");
    if (progressive.level() == Level::critical) return t;
    const bool hurry = thresholds.wants_confirmation({"cpu", "memory"});
    auto delay = cadence.next(now, usage.memory_bytes, usage.cpu_usec, false);
    if (hurry) delay = std::min<std::chrono::microseconds>(delay, 200ms);
    t += delay;
  }
  return std::nullopt;
}

TEST(MonitorEscalation, ACpuBreachReachesCriticalWithinASecondAndAHalfWhereverItStarts) {
  // A tree that starts using 2 cores (133 % of its ceiling), or just over the critical
  // threshold (1.3 cores = 87 %), 10 s into the run, at every 10 ms of a 1 s sampling window.
  for (double cores : {2.0, 1.3}) {
    for (int offset_ms = 0; offset_ms < 1000; offset_ms += 10) {
      const Burst breach{10s, 60s, cores};
      auto at = first_critical(breach, std::chrono::milliseconds(offset_ms), 30s);
      ASSERT_TRUE(at.has_value()) << cores << " cores, offset " << offset_ms << " ms";
      EXPECT_LE(*at - breach.start, 1500ms) << cores << " cores, offset " << offset_ms << " ms: took "
                                            << std::chrono::duration_cast<std::chrono::milliseconds>(*at - breach.start).count()
                                            << " ms";
    }
  }
}

TEST(MonitorEscalation, ASingleSpikeDoesNotRaiseTheLevel) {
  for (int offset_ms = 0; offset_ms < 1000; offset_ms += 10) {
    const Burst spike{10s, 10s + 200ms, 2.0};
    EXPECT_FALSE(first_critical(spike, std::chrono::milliseconds(offset_ms), 30s).has_value())
        << "offset " << offset_ms << " ms";
  }
}

TEST(MonitorEscalation, ASteadyModerateTreeIsNotSampledFasterThanOnceASecond) {
  // 30 % of the ceiling for a minute: no reading to confirm, no rise after the first.
  ThresholdSet thresholds(ThresholdPolicy{});
  thresholds.define("cpu", {70, 85});
  thresholds.update("cpu", 0);
  thresholds.update("cpu", 30);
  EXPECT_TRUE(thresholds.wants_confirmation({"cpu"}));  // a rise of 30 points: look again soon
  thresholds.update("cpu", 30);
  EXPECT_FALSE(thresholds.wants_confirmation({"cpu"}));
  thresholds.update("cpu", 86);
  EXPECT_TRUE(thresholds.wants_confirmation({"cpu"}));  // over critical: confirm
  thresholds.update("cpu", 87);                          // confirmed
  EXPECT_FALSE(thresholds.wants_confirmation({"cpu"}));
}

}  // namespace
}  // namespace guardian::monitor
