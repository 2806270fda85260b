// When a tree throttled at memory.high is ended: only after it stayed above memory.high for a
// whole window and its tasks were stalled on memory (memory.pressure "full") for most of that
// window; a tree that merely reclaims page cache at memory.high is left alone.
#include <gtest/gtest.h>

#include "guardian/limits/memory_throttle.hpp"

namespace guardian::limits {
namespace {

using namespace std::chrono_literals;
using Reading = MemoryThrottleWatch::Reading;
const auto t0 = MemoryThrottleWatch::Clock::time_point{} + 1h;

// A reading `ms` after t0, over memory.high or not, with `stall_ms` of full stall so far.
Reading at(int ms, bool over_high, std::optional<std::uint64_t> stall_ms) {
  Reading r;
  r.at = t0 + std::chrono::milliseconds(ms);
  r.over_high = over_high;
  if (stall_ms) r.full_stall_usec = *stall_ms * 1000;
  return r;
}

TEST(LimitsMemoryThrottle, AStalledTreeIsEndedAfterTheWindow) {
  MemoryThrottleWatch watch(2s);
  EXPECT_FALSE(watch.update(at(0, true, 0)));
  for (int ms = 200; ms < 2000; ms += 200) {
    EXPECT_FALSE(watch.update(at(ms, true, static_cast<std::uint64_t>(ms) * 3 / 4))) << ms;  // 75 % stalled
    EXPECT_TRUE(watch.throttling());
  }
  EXPECT_EQ(watch.throttled(), 1800ms);
  EXPECT_TRUE(watch.update(at(2000, true, 1500)));
  EXPECT_EQ(watch.throttled(), 2000ms);
}

TEST(LimitsMemoryThrottle, StallsComeInLongSleepsAndAreJudgedOverTheWindow) {
  // The kernel's throttling sleeps last up to 2 s: some ticks show no new stall at all.
  MemoryThrottleWatch watch(2s);
  std::uint64_t stall = 0;
  bool ended = false;
  for (int ms = 0; ms <= 4000 && !ended; ms += 250) {
    if ((ms / 250) % 4 != 3) stall += 250;  // stalled in three ticks of four
    ended = watch.update(at(ms, true, stall));
    if (!ended) {
      EXPECT_LT(ms, 2000);
    }
  }
  EXPECT_TRUE(ended);
}

TEST(LimitsMemoryThrottle, ReclaimWithoutStallIsNotThrottling) {
  MemoryThrottleWatch watch(1s);
  for (int ms = 0; ms <= 5000; ms += 100)  // over high, 10 % stalled
    EXPECT_FALSE(watch.update(at(ms, true, static_cast<std::uint64_t>(ms / 10)))) << ms;
  EXPECT_EQ(watch.throttled(), 5000ms);  // throttled, but not stalled: left alone
}

TEST(LimitsMemoryThrottle, DroppingBelowHighRestartsTheWindow) {
  MemoryThrottleWatch watch(1s);
  EXPECT_FALSE(watch.update(at(0, true, 0)));
  EXPECT_FALSE(watch.update(at(600, true, 600)));
  EXPECT_FALSE(watch.update(at(900, false, 900)));  // below memory.high: a break
  EXPECT_FALSE(watch.throttling());
  EXPECT_FALSE(watch.update(at(1500, true, 1500)));
  EXPECT_FALSE(watch.update(at(2300, true, 2300)));  // 800 ms since it went over again
  EXPECT_TRUE(watch.update(at(2500, true, 2500)));   // 1 s
}

TEST(LimitsMemoryThrottle, WithoutPsiBeingOverHighForTheWindowDecides) {
  MemoryThrottleWatch watch(500ms);
  watch.update(at(0, true, std::nullopt));
  EXPECT_FALSE(watch.update(at(250, true, std::nullopt)));
  EXPECT_TRUE(watch.update(at(500, true, std::nullopt)));
}

}  // namespace
}  // namespace guardian::limits
