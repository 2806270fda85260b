// The ceilings of each mode and of the overrides, relative to the machine or to a smaller
// enclosing cgroup; and the arithmetic the watchdog uses to hold a CPU ceiling.
#include <gtest/gtest.h>

#include <cmath>

#include "guardian/config/config.hpp"
#include "guardian/limits/capacity.hpp"
#include "guardian/limits/ceilings.hpp"
#include "guardian/limits/duty_cycle.hpp"

namespace guardian::limits {
namespace {

constexpr std::uint64_t GiB = 1024ull * 1024 * 1024;

// A share of a size, rounded to the nearest byte like the ceilings are.
std::uint64_t share(double bytes) { return static_cast<std::uint64_t>(std::llround(bytes)); }

Capacity eight_cores_32g() {
  Machine machine{8, 32 * GiB};
  return capacity_of(machine, CgroupProbe{});
}

config::Config with(std::initializer_list<std::pair<std::string, std::string>> values) {
  auto config = config::Config::defaults();
  for (const auto& [key, value] : values) config.set(key, value, config::Origin{config::Origin::Layer::flag, key});
  return config;
}

TEST(LimitsCeilings, ModesAreSharesOfTheMachine) {
  auto dev = compute_ceilings(with({}), eight_cores_32g());
  EXPECT_DOUBLE_EQ(*dev.cpu_cores, 6.0);  // 75 % of 8 cores
  EXPECT_EQ(*dev.memory_max_bytes, share(0.8 * 32 * GiB));
  // No swap: memory.high at the ceiling, so the kernel kills at memory.max instead of throttling.
  EXPECT_EQ(*dev.memory_high_bytes, *dev.memory_max_bytes);
  EXPECT_EQ(dev.swap_max_bytes, 0u);
  EXPECT_FALSE(dev.pids_max.has_value());
  EXPECT_NE(dev.cpu_origin.find("mode dev: 75% of the machine (8 CPUs)"), std::string::npos) << dev.cpu_origin;

  auto test = compute_ceilings(with({{"mode", "test"}}), eight_cores_32g());
  EXPECT_DOUBLE_EQ(*test.cpu_cores, 6.8);
  EXPECT_EQ(*test.memory_max_bytes, share(0.85 * 32 * GiB));
  auto prod = compute_ceilings(with({{"mode", "prod"}}), eight_cores_32g());
  EXPECT_DOUBLE_EQ(*prod.cpu_cores, 7.2);
  EXPECT_EQ(*prod.memory_max_bytes, share(0.9 * 32 * GiB));
}

TEST(LimitsCeilings, OverridesReplaceTheMode) {
  auto c = compute_ceilings(with({{"limits.cpu", "150%"}, {"limits.memory", "2G"}, {"limits.pids", "64"}}),
                            eight_cores_32g());
  EXPECT_DOUBLE_EQ(*c.cpu_cores, 1.5);  // 150 % of one core
  EXPECT_EQ(*c.memory_max_bytes, 2 * GiB);
  EXPECT_EQ(*c.memory_high_bytes, 2 * GiB);
  EXPECT_EQ(*c.pids_max, 64u);
  EXPECT_EQ(c.describe(), "cpu 1.50 cores · memory 2.0 GiB · pids 64");
  auto cores = compute_ceilings(with({{"limits.cpu", "1.5"}, {"limits.memory", "50%"}}), eight_cores_32g());
  EXPECT_DOUBLE_EQ(*cores.cpu_cores, 1.5);
  EXPECT_EQ(*cores.memory_max_bytes, 16 * GiB);
}

TEST(LimitsCeilings, MemoryHighAndSwapCanBeSizesOrShares) {
  auto c = compute_ceilings(with({{"limits.memory", "1G"}, {"limits.memory_high", "512M"}, {"limits.swap", "25%"}}),
                            eight_cores_32g());
  EXPECT_EQ(*c.memory_high_bytes, GiB / 2);
  EXPECT_EQ(c.swap_max_bytes, GiB / 4);
  auto capped = compute_ceilings(with({{"limits.memory", "1G"}, {"limits.memory_high", "4G"}}), eight_cores_32g());
  EXPECT_EQ(*capped.memory_high_bytes, GiB);  // never above the hard ceiling
  // Unset, with swap allowed: the early reclaim step at 90 %.
  auto swapping = compute_ceilings(with({{"limits.memory", "1G"}, {"limits.swap", "256M"}}), eight_cores_32g());
  EXPECT_EQ(*swapping.memory_high_bytes, share(0.9 * GiB));
  EXPECT_EQ(swapping.describe(), "cpu 6.00 cores · memory 1.0 GiB (high 922 MiB)");
}

TEST(LimitsCeilings, AnEnclosingCgroupWithLessIsWhatTheModeSharesOut) {
  CgroupProbe probe;
  probe.enclosing_memory_bytes = 4 * GiB;
  probe.enclosing_memory_from = "/sys/fs/cgroup/docker/memory.max";
  probe.enclosing_cpu_cores = 2.0;
  probe.enclosing_cpu_from = "/sys/fs/cgroup/docker/cpu.max";
  auto capacity = capacity_of(Machine{8, 32 * GiB}, probe);
  EXPECT_DOUBLE_EQ(capacity.cores, 2.0);
  EXPECT_EQ(capacity.memory_bytes, 4 * GiB);
  auto c = compute_ceilings(with({}), capacity);
  EXPECT_DOUBLE_EQ(*c.cpu_cores, 1.5);
  EXPECT_EQ(*c.memory_max_bytes, share(0.8 * 4 * GiB));
  EXPECT_NE(c.memory_origin.find("enclosing cgroup"), std::string::npos) << c.memory_origin;
  // A larger enclosing limit changes nothing.
  probe.enclosing_memory_bytes = 64 * GiB;
  EXPECT_EQ(capacity_of(Machine{8, 32 * GiB}, probe).memory_bytes, 32 * GiB);
}

TEST(LimitsCeilings, NonsenseIsAConfigErrorSayingWhatToDo) {
  EXPECT_THROW(compute_ceilings(with({{"limits.pids", "0"}}), eight_cores_32g()), config::ConfigError);
  EXPECT_THROW(compute_ceilings(with({{"limits.memory", "100"}}), eight_cores_32g()), config::ConfigError);
  EXPECT_THROW(with({{"limits.cpu", "-1"}}), config::ConfigError);
  EXPECT_THROW(with({{"limits.memory", "150%"}}), config::ConfigError);
}

// --- the watchdog's duty cycle, on a fake clock ------------------------------------------

// A tree that would use `demand_cores` whenever it is allowed to run.
struct SimulatedTree {
  double demand_cores;
  double cpu_usec = 0;
};

// Runs `periods` periods of 100 ms; returns the average CPU use in cores.
double run_duty_cycle(DutyCycle& duty, SimulatedTree& tree, int periods, std::uint64_t tick_usec = 0) {
  auto now = DutyCycle::Clock::time_point{};
  const auto period = duty.period();
  double start_cpu = tree.cpu_usec;
  for (int i = 0; i < periods; ++i) {
    std::uint64_t reported = static_cast<std::uint64_t>(tree.cpu_usec);
    if (tick_usec) reported -= reported % tick_usec;  // /proc counts in clock ticks
    auto run = duty.next_run(now, reported);
    tree.cpu_usec += tree.demand_cores * static_cast<double>(run.count());
    now += period;
  }
  return (tree.cpu_usec - start_cpu) / (static_cast<double>(period.count()) * periods);
}

TEST(LimitsDutyCycle, HoldsAHungryTreeAtTheCeiling) {
  DutyCycle duty(0.5, std::chrono::milliseconds(100));
  SimulatedTree tree{2.0};
  double average = run_duty_cycle(duty, tree, 300);
  EXPECT_NEAR(average, 0.5, 0.5 * 0.02);
  EXPECT_GT(duty.held_periods(), 250u);
  EXPECT_NEAR(duty.demand_cores(), 2.0, 0.01);
}

TEST(LimitsDutyCycle, CoarseTickAccountingStillAveragesToTheCeiling) {
  DutyCycle duty(1.5, std::chrono::milliseconds(100));
  SimulatedTree tree{2.0};
  double average = run_duty_cycle(duty, tree, 600, 10000);  // 10 ms ticks (USER_HZ 100)
  EXPECT_NEAR(average, 1.5, 1.5 * 0.03);
}

TEST(LimitsDutyCycle, ALowCeilingHoldsDespiteTickAccountingOfShortRuns) {
  // 0.1 cores on 200 ms periods leaves runs of a few ms, shorter than a clock tick: most show
  // no CPU at all. Read as "this tree is idle", they used to let it run whole periods.
  DutyCycle duty(0.1, std::chrono::milliseconds(200));
  SimulatedTree tree{2.0};
  double average = run_duty_cycle(duty, tree, 30, 10000);  // 6 s, 10 ms ticks
  EXPECT_NEAR(average, 0.1, 0.1 * 0.1);
  EXPECT_NEAR(run_duty_cycle(duty, tree, 300, 10000), 0.1, 0.1 * 0.03);
}

TEST(LimitsDutyCycle, NeverHoldsATreeBelowItsCeiling) {
  DutyCycle duty(1.0, std::chrono::milliseconds(100));
  SimulatedTree tree{0.6};
  double average = run_duty_cycle(duty, tree, 100);
  EXPECT_NEAR(average, 0.6, 0.001);
  EXPECT_EQ(duty.held_periods(), 0u);
  EXPECT_EQ(duty.held_usec(), 0u);
}

TEST(LimitsDutyCycle, AnIdleTreeEarnsNoBurst) {
  DutyCycle duty(0.5, std::chrono::milliseconds(100));
  SimulatedTree tree{0.0};
  run_duty_cycle(duty, tree, 100);  // idle for 10 s
  tree.demand_cores = 4.0;          // then spins on 4 cores
  double first_second = run_duty_cycle(duty, tree, 10);
  // At most one period of saved-up credit on top of the ceiling, plus the measuring period.
  EXPECT_LT(first_second, 0.5 + (0.05 + 0.4) / 1.0);
  double later = run_duty_cycle(duty, tree, 200);
  EXPECT_NEAR(later, 0.5, 0.5 * 0.03);
}

}  // namespace
}  // namespace guardian::limits
