// The startup schedule and the whole startup story of a server on a fake clock, with the
// real defaults: 90 s, 120 s, 180 s, 240 s, then 240 s again, and the reset after a start.
#include <gtest/gtest.h>

#include "health_fake_world.hpp"

namespace guardian::health {
namespace {

using namespace std::chrono_literals;
using testing::FakeWorld;

TEST(StartupSchedule, GrowsPerFailedAttemptThenRepeatsTheLast) {
  StartupSchedule schedule;
  std::vector<Milliseconds> seen;
  for (int i = 0; i < 6; ++i) {
    seen.push_back(schedule.current());
    schedule.record_failure();
  }
  EXPECT_EQ(seen, (std::vector<Milliseconds>{90s, 120s, 180s, 240s, 240s, 240s}));
  schedule.reset();
  EXPECT_EQ(schedule.current(), 90s);
  EXPECT_EQ(schedule.failed_attempts(), 0u);
}

TEST(StartupSchedule, EmptyListMeansTheDefaults) {
  StartupSchedule schedule(std::vector<Milliseconds>{});
  EXPECT_EQ(schedule.timeouts(), StartupSchedule::default_timeouts());
}

TEST(StartupSchedule, ConfiguredListIsUsedAsGiven) {
  StartupSchedule schedule({1s, 2s});
  EXPECT_EQ(schedule.current(), 1s);
  schedule.record_failure();
  EXPECT_EQ(schedule.current(), 2s);
  schedule.record_failure();
  EXPECT_EQ(schedule.current(), 2s);
}

// A server that never answers, under `guardian serve` (no attempt limit): each attempt is
// stopped at its timeout and the next one gets the next timeout; between them the restart
// backoff (500 ms, 1 s, 2 s, 4 s, 8 s) — every instant checked on the fake clock.
TEST(ServerStartup, NeverHealthyServerGetsTheRealGrowingTimeouts) {
  FakeWorld world(LifecycleSettings{});
  world.lifecycle.start(world.now);
  world.run_until([&] { return world.launches.size() >= 6 && world.lifecycle.state() == ServerState::starting; });
  ASSERT_EQ(world.launches.size(), 6u);
  std::vector<Milliseconds> timeouts;
  for (const auto& a : world.launches) timeouts.push_back(a.startup_timeout);
  EXPECT_EQ(timeouts, (std::vector<Milliseconds>{90s, 120s, 180s, 240s, 240s, 240s}));
  EXPECT_EQ(world.launch_times, (std::vector<Milliseconds>{0ms, 90500ms, 211500ms, 393500ms, 637500ms, 885500ms}));
  EXPECT_EQ(world.restart_delays, (std::vector<Milliseconds>{500ms, 1s, 2s, 4s, 8s}));
  ASSERT_EQ(world.start_failures.size(), 5u);
  EXPECT_EQ(world.start_failures[0].reason, StartFailure::timed_out);
  EXPECT_EQ(world.start_failures[0].elapsed, 90s);
  EXPECT_EQ(world.start_failures[0].next_startup_timeout, 120s);
  EXPECT_EQ(world.start_failures[3].next_startup_timeout, 240s);
  EXPECT_EQ(world.stops, 5);  // each timed-out attempt was stopped before the next
  // Slow failures never trip the breaker (5 failed starts within 10 minutes): a slow server
  // keeps getting chances under `serve`.
  EXPECT_TRUE(world.give_ups.empty());
  EXPECT_EQ(world.launches[5].attempt, 6u);
}

// Under `guardian run`: one attempt per startup timeout, then give up (exit 125). With
// the defaults that is 90 + 120 + 180 + 240 s of waiting plus the backoff between.
TEST(ServerStartup, RunGivesUpAfterOneAttemptPerTimeout) {
  LifecycleSettings settings;
  settings.initial_attempts = 4;
  FakeWorld world(settings);
  world.lifecycle.start(world.now);
  world.run_until([&] { return !world.give_ups.empty(); });
  ASSERT_EQ(world.give_ups.size(), 1u);
  EXPECT_EQ(world.give_ups[0].reason, GiveUpReason::never_healthy);
  EXPECT_EQ(world.give_ups[0].failed_starts, 4u);
  EXPECT_EQ(world.elapsed(), 633500ms);  // 90 + 0.5 + 120 + 1 + 180 + 2 + 240
  EXPECT_EQ(world.lifecycle.state(), ServerState::fatal);
  EXPECT_FALSE(world.start_failures.back().retry_in.has_value());
  EXPECT_EQ(world.launches.size(), 4u);
}

// A slow starter: too slow for 90 s, fine with 120 s; a SERVER_SLOW-worthy start; then the
// schedule starts over, so the next start after a crash gets 90 s again.
TEST(ServerStartup, SlowStarterGetsTheLongerTimeoutThenTheScheduleResets) {
  FakeWorld world(LifecycleSettings{});
  world.behaviour = [](unsigned launch) {
    FakeWorld::Behaviour b;
    if (launch <= 2) b.healthy_after = 100s;
    else b.healthy_after = 2s;
    if (launch == 2) b.exits_after = 150s;  // crashes 50 s after becoming healthy
    return b;
  };
  world.lifecycle.start(world.now);
  world.run_until([&] { return world.healthy_notices.size() == 2; });
  ASSERT_EQ(world.healthy_notices.size(), 2u);
  EXPECT_EQ(world.launches[0].startup_timeout, 90s);
  EXPECT_EQ(world.launches[1].startup_timeout, 120s);
  EXPECT_EQ(world.healthy_notices[0].startup_time, 100s);
  EXPECT_EQ(world.healthy_notices[0].attempts, 2u);
  EXPECT_TRUE(world.healthy_notices[0].slow);
  ASSERT_EQ(world.downs.size(), 1u);
  EXPECT_EQ(world.downs[0].uptime, 50s);
  EXPECT_EQ(world.launches[2].startup_timeout, 90s);  // reset by the successful start
  EXPECT_EQ(world.launches[2].attempt, 1u);
  EXPECT_FALSE(world.healthy_notices[1].slow);
  EXPECT_TRUE(world.healthy_notices[1].restart);
}

TEST(ServerStartup, StartSlowerThanTheThresholdIsSlowEvenOnTheFirstAttempt) {
  LifecycleSettings settings;
  settings.slow_start = 30s;
  FakeWorld world(settings);
  world.behaviour = [](unsigned) { return FakeWorld::Behaviour{45s, {}, false}; };
  world.lifecycle.start(world.now);
  world.run_until([&] { return !world.healthy_notices.empty(); });
  ASSERT_EQ(world.healthy_notices.size(), 1u);
  EXPECT_TRUE(world.healthy_notices[0].slow);
  EXPECT_EQ(world.healthy_notices[0].attempts, 1u);
}

TEST(ServerStartup, ExitBeforeHealthyIsAFailedStartWithoutWaitingForTheTimeout) {
  LifecycleSettings settings;
  settings.startup_timeouts = {10s};
  FakeWorld world(settings);
  world.behaviour = [](unsigned launch) {
    FakeWorld::Behaviour b;
    if (launch == 1) b.exits_after = 1s;
    else b.healthy_after = 1s;
    return b;
  };
  world.lifecycle.start(world.now);
  world.run_until([&] { return !world.healthy_notices.empty(); });
  ASSERT_EQ(world.start_failures.size(), 1u);
  EXPECT_EQ(world.start_failures[0].reason, StartFailure::exited);
  EXPECT_EQ(world.start_failures[0].elapsed, 1s);
  EXPECT_EQ(world.stops, 0);  // it ended by itself
  EXPECT_EQ(world.elapsed(), 2500ms);  // 1 s, 500 ms backoff, 1 s
}

}  // namespace
}  // namespace guardian::health
