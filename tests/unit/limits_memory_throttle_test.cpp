// When a tree throttled at memory.high is ended: only after an uninterrupted window in which
// the kernel kept throttling it (memory.events "high" rose) and its tasks stalled on memory
// (memory.pressure "full"); a tree that merely reclaims page cache at memory.high is left alone.
#include <gtest/gtest.h>

#include "guardian/limits/memory_throttle.hpp"

namespace guardian::limits {
namespace {

using namespace std::chrono_literals;
using Reading = MemoryThrottleWatch::Reading;
const auto t0 = MemoryThrottleWatch::Clock::time_point{} + 1h;

// A reading `ms` after t0 with `high` events and `stall_ms` of full stall so far.
Reading at(int ms, std::uint64_t high, std::optional<std::uint64_t> stall_ms) {
  Reading r;
  r.at = t0 + std::chrono::milliseconds(ms);
  r.high_events = high;
  if (stall_ms) r.full_stall_usec = *stall_ms * 1000;
  return r;
}

TEST(LimitsMemoryThrottle, AStalledTreeIsEndedAfterTheWindow) {
  MemoryThrottleWatch watch(2s);
  EXPECT_FALSE(watch.update(at(0, 10, 0)));
  std::uint64_t high = 10;
  for (int ms = 200; ms < 2000; ms += 200) {
    EXPECT_FALSE(watch.update(at(ms, high += 20, ms - 10))) << ms;  // ~95 % stalled
    EXPECT_TRUE(watch.throttling());
  }
  EXPECT_EQ(watch.throttled(), 1800ms);
  EXPECT_TRUE(watch.update(at(2000, high + 20, 1990)));
  EXPECT_EQ(watch.throttled(), 2000ms);
}

TEST(LimitsMemoryThrottle, ReclaimWithoutStallIsNotThrottling) {
  MemoryThrottleWatch watch(1s);
  EXPECT_FALSE(watch.update(at(0, 0, 0)));
  for (int ms = 100; ms <= 5000; ms += 100)  // high events rise, 10 % stalled
    EXPECT_FALSE(watch.update(at(ms, static_cast<std::uint64_t>(ms), static_cast<std::uint64_t>(ms / 10)))) << ms;
  EXPECT_FALSE(watch.throttling());
}

TEST(LimitsMemoryThrottle, ABreakRestartsTheWindow) {
  MemoryThrottleWatch watch(1s);
  watch.update(at(0, 0, 0));
  EXPECT_FALSE(watch.update(at(600, 10, 600)));
  EXPECT_FALSE(watch.update(at(900, 10, 600)));  // no high event, no stall: a break
  EXPECT_FALSE(watch.throttling());
  EXPECT_FALSE(watch.update(at(1500, 20, 1200)));  // throttled since the tick began: 600 ms
  EXPECT_FALSE(watch.update(at(1800, 30, 1500)));  // 900 ms
  EXPECT_TRUE(watch.update(at(1900, 40, 1600)));   // 1 s
}

TEST(LimitsMemoryThrottle, WithoutPsiHighEventsAloneDecide) {
  MemoryThrottleWatch watch(500ms);
  watch.update(at(0, 0, std::nullopt));
  EXPECT_FALSE(watch.update(at(250, 5, std::nullopt)));
  EXPECT_TRUE(watch.update(at(500, 9, std::nullopt)));
}

}  // namespace
}  // namespace guardian::limits
