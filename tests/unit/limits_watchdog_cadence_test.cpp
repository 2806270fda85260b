// The watchdog's adaptive cadence (earlyoom's idea): far below the ceilings it samples at most
// a second apart, near them at the duty cycle's period, and a steady fill is sampled when it
// should cross; the duty cycle keeps its average when the samples of an unheld tree are far
// apart. Fake clock, simulated trees.
#include <gtest/gtest.h>

#include "guardian/limits/duty_cycle.hpp"
#include "guardian/limits/watchdog_cadence.hpp"

namespace guardian::limits {
namespace {

using namespace std::chrono_literals;
using std::chrono::microseconds;
constexpr std::uint64_t MiB = 1024 * 1024;
constexpr std::uint64_t GiB = 1024 * MiB;

CadenceSettings two_cpus() {
  CadenceSettings settings;
  settings.cpus = 2;
  return settings;
}

// A watchdog on 2 CPUs enforcing a memory ceiling only.
WatchdogCadence memory_cadence(std::uint64_t ceiling_bytes) {
  CadenceSettings settings = two_cpus();
  settings.memory_ceiling_bytes = ceiling_bytes;
  return WatchdogCadence(settings);
}

TEST(LimitsWatchdogCadence, FarBelowTheDefaultCeilingsItSamplesOnceASecond) {
  // dev mode on a 2-CPU, 24 GiB machine: 75 % of the CPUs, 80 % of the RAM.
  CadenceSettings settings = two_cpus();
  settings.cpu_ceiling_cores = 1.5;
  settings.memory_ceiling_bytes = 19 * GiB;
  WatchdogCadence cadence(settings);
  auto t = WatchdogCadence::Clock::time_point{};
  EXPECT_EQ(cadence.next(t, 100 * MiB, 0, false), microseconds(1s));
  EXPECT_EQ(cadence.next(t + 1s, 101 * MiB, 5'000, false), microseconds(1s));  // 0.5 % of a core
}

TEST(LimitsWatchdogCadence, NearTheMemoryCeilingItSamplesAsOftenAsBefore) {
  auto t = WatchdogCadence::Clock::time_point{};
  // 1 GiB of headroom fills in 1/16 s at 2 × 8 GiB/s: the fastest cadence (as before).
  EXPECT_EQ(memory_cadence(4 * GiB).next(t, 3 * GiB, 0, false), microseconds(200ms));
  // 12 GiB of headroom on a 16 GiB ceiling would take 0.75 s.
  EXPECT_EQ(memory_cadence(16 * GiB).next(t, 4 * GiB, 0, false), microseconds(750ms));
}

TEST(LimitsWatchdogCadence, ASteadyFillIsSampledWhenItShouldCross) {
  WatchdogCadence cadence = memory_cadence(64 * MiB);
  auto t = WatchdogCadence::Clock::time_point{};
  EXPECT_EQ(cadence.next(t, 10 * MiB, 0, false), microseconds(200ms));
  // 200 MiB/s: 40 MiB in 200 ms, 14 MiB left = 70 ms.
  auto delay = cadence.next(t + 200ms, 50 * MiB, 0, false);
  EXPECT_NEAR(static_cast<double>(delay.count()), 70'000, 1'000);
  // At the ceiling: never sooner than the floor.
  EXPECT_EQ(cadence.next(t + 270ms, 64 * MiB, 0, false), microseconds(10ms));
}

TEST(LimitsWatchdogCadence, ALowCpuCeilingKeepsTheDutyCyclePeriod) {
  CadenceSettings settings = two_cpus();
  settings.cpu_ceiling_cores = 0.1;  // an idle tree could overrun its debt bound in 50 ms
  WatchdogCadence cadence(settings);
  auto t = WatchdogCadence::Clock::time_point{};
  EXPECT_EQ(cadence.next(t, 0, 0, false), microseconds(200ms));
}

TEST(LimitsWatchdogCadence, ABusyOrHeldTreeIsSampledEveryPeriod) {
  CadenceSettings settings = two_cpus();
  settings.cpu_ceiling_cores = 1.5;
  WatchdogCadence cadence(settings);
  auto t = WatchdogCadence::Clock::time_point{};
  EXPECT_EQ(cadence.next(t, 0, 0, false), microseconds(1s));
  EXPECT_EQ(cadence.next(t + 1s, 0, 800'000, false), microseconds(200ms));  // 0.8 cores: over half
  EXPECT_EQ(cadence.next(t + 2s, 0, 800'000, true), microseconds(200ms));   // held
}

TEST(LimitsWatchdogCadence, ACeilingOfEveryCpuNeedsNoCpuSamples) {
  CadenceSettings settings = two_cpus();
  settings.cpu_ceiling_cores = 2;
  WatchdogCadence cadence(settings);
  EXPECT_EQ(cadence.next(WatchdogCadence::Clock::time_point{}, 0, 0, true), microseconds(1s));
}

// The watchdog's loop on a simulated tree: the cadence says when the next sample comes, the
// duty cycle how long the tree may run in the period that starts there.
struct SimulatedRun {
  double demand_cores;
  double cpu_usec = 0;
};

double run_adaptive(SimulatedRun& tree, std::chrono::milliseconds duration, DutyCycle& duty,
                    WatchdogCadence& cadence, WatchdogCadence::Clock::time_point& now) {
  const auto end = now + duration;
  const double start_cpu = tree.cpu_usec;
  const auto start = now;
  while (now < end) {
    const auto cpu = static_cast<std::uint64_t>(tree.cpu_usec);
    auto run = duty.next_run(now, cpu);
    const bool held = run < duty.period();
    auto delay = cadence.next(now, 0, cpu, held);
    // The tree runs for `run` of the period when held; unheld, for the whole delay.
    const auto ran = held ? run : delay;
    tree.cpu_usec += tree.demand_cores * static_cast<double>(ran.count());
    now += held ? std::chrono::duration_cast<microseconds>(duty.period()) : delay;
  }
  return (tree.cpu_usec - start_cpu) / static_cast<double>(std::chrono::duration_cast<microseconds>(now - start).count());
}

TEST(LimitsWatchdogCadence, AnIdleTreeSampledRarelyStillAveragesToItsCeilingOnceItSpins) {
  for (double ceiling : {0.05, 0.1, 1.5}) {
    CadenceSettings settings = two_cpus();
    settings.cpu_ceiling_cores = ceiling;
    WatchdogCadence cadence(settings);
    DutyCycle duty(ceiling, 200ms);
    SimulatedRun tree{0.0};
    auto now = WatchdogCadence::Clock::time_point{};
    run_adaptive(tree, 30s, duty, cadence, now);  // idle: rare samples
    tree.demand_cores = 2.0;
    // The start of the spin: at most one period on every CPU beyond the ceiling, as with
    // samples every period (the duty cycle's first, unmeasured period).
    const double first = run_adaptive(tree, 5s, duty, cadence, now);
    EXPECT_LT(first, ceiling + 2.0 * 0.2 / 5.0) << "ceiling " << ceiling;
    const double later = run_adaptive(tree, 60s, duty, cadence, now);
    EXPECT_NEAR(later, ceiling, ceiling * 0.03) << "ceiling " << ceiling;
  }
}

TEST(LimitsDutyCycle, AnUnheldTreeSampledLessOftenThanAPeriodIsNotMistakenForAHungryOne) {
  // Samples a second apart, the tree using 1 core under a 1.5-core ceiling: it ran the whole
  // second, not one 200 ms period of it (that read as 5 cores and held a tree below its ceiling).
  DutyCycle duty(1.5, 200ms);
  auto now = DutyCycle::Clock::time_point{};
  std::uint64_t cpu = 0;
  duty.next_run(now, cpu);
  for (int i = 0; i < 5; ++i) {
    now += 1s;
    cpu += 1'000'000;
    EXPECT_EQ(duty.next_run(now, cpu), duty.period()) << "sample " << i;
  }
  EXPECT_NEAR(duty.demand_cores(), 1.0, 0.05);
}

}  // namespace
}  // namespace guardian::limits
