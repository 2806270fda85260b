// Flap detection, alone and inside the lifecycle on a fake clock: the restart storm of a
// server that dies 0.4 s after each healthy start is one flapping phase (restarts go on
// with backoff), which ends once the server has stayed healthy for the stable period.
#include <gtest/gtest.h>

#include "guardian/health/flap_detector.hpp"
#include "health_fake_world.hpp"

namespace guardian::health {
namespace {

using namespace std::chrono_literals;
using testing::FakeWorld;
using Down = FlapDetector::Down;

TEST(FlapDetector, TheNthDownWithinTheWindowStartsFlapping) {
  FlapDetector flaps(3, 2min);
  const auto t0 = FlapDetector::TimePoint{} + 1000h;
  EXPECT_EQ(flaps.record_down(t0), Down::single);
  EXPECT_EQ(flaps.record_down(t0 + 1min), Down::single);
  EXPECT_EQ(flaps.record_down(t0 + 2min + 1s), Down::single);  // the first one left the window
  EXPECT_EQ(flaps.record_down(t0 + 2min + 30s), Down::starts_flapping);
  EXPECT_TRUE(flaps.flapping());
  EXPECT_EQ(flaps.record_down(t0 + 10min), Down::while_flapping);  // no window while flapping
  EXPECT_EQ(flaps.downs_while_flapping(), 2u);
  flaps.end();
  EXPECT_FALSE(flaps.flapping());
  EXPECT_EQ(flaps.record_down(t0 + 11min), Down::single);  // forgiven: counting starts over
}

TEST(FlapDetector, ZeroDownsTurnsItOff) {
  FlapDetector flaps(0, 2min);
  const auto t0 = FlapDetector::TimePoint{} + 1000h;
  for (int i = 0; i < 20; ++i) EXPECT_EQ(flaps.record_down(t0 + i * 1s), Down::single);
}

TEST(ServerFlapping, ARestartStormIsOneFlappingPhaseThatEndsWhenStable) {
  LifecycleSettings settings;  // the defaults: 3 downs in 2 min, stable after 60 s
  settings.breaker_failures = 100;
  FakeWorld world(settings);
  // Healthy 100 ms after each launch, dead 0.4 s later — 15 times; then it stays up.
  world.behaviour = [](unsigned launch) {
    if (launch <= 15) return FakeWorld::Behaviour{100ms, 500ms, false};
    return FakeWorld::Behaviour{100ms, {}, false};
  };
  world.lifecycle.start(world.now);
  world.run_until([&] { return !world.stable_notices.empty(); }, 100000);

  ASSERT_EQ(world.downs.size(), 15u);
  EXPECT_EQ(world.downs[0].flap, Down::single);
  EXPECT_EQ(world.downs[1].flap, Down::single);
  EXPECT_EQ(world.downs[2].flap, Down::starts_flapping);
  EXPECT_EQ(world.downs[2].recent_downs, 3u);
  for (std::size_t i = 3; i < world.downs.size(); ++i) EXPECT_EQ(world.downs[i].flap, Down::while_flapping) << i;
  // Restarts went on, with the backoff growing (to its 30 s cap), not stopped by flapping.
  ASSERT_EQ(world.restart_delays.size(), 15u);
  EXPECT_EQ(world.restart_delays[0], 500ms);
  EXPECT_EQ(world.restart_delays[5], 16s);
  EXPECT_EQ(world.restart_delays.back(), 30s);
  // Healthy notices during the phase say so (no SERVER_UP for them).
  ASSERT_EQ(world.healthy_notices.size(), 16u);
  EXPECT_FALSE(world.healthy_notices[2].flapping);
  EXPECT_TRUE(world.healthy_notices[3].flapping);
  EXPECT_TRUE(world.healthy_notices.back().flapping);
  // One end of the phase, 60 s after the last healthy start.
  ASSERT_EQ(world.stable_notices.size(), 1u);
  EXPECT_EQ(world.stable_notices[0].uptime, 60s);
  EXPECT_EQ(world.stable_notices[0].downs, 13u);
  EXPECT_FALSE(world.lifecycle.flapping());
  EXPECT_EQ(world.lifecycle.state(), ServerState::running);
}

TEST(ServerFlapping, AShortHealthyPhaseDoesNotEndIt) {
  LifecycleSettings settings;
  settings.stable_uptime = 10s;
  FakeWorld world(settings);
  // Down 3 times quickly, then up for 5 s (not stable), down again, then up for good.
  world.behaviour = [](unsigned launch) {
    if (launch <= 3) return FakeWorld::Behaviour{100ms, 500ms, false};
    if (launch == 4) return FakeWorld::Behaviour{100ms, 5100ms, false};
    return FakeWorld::Behaviour{100ms, {}, false};
  };
  world.lifecycle.start(world.now);
  world.run_until([&] { return !world.stable_notices.empty(); }, 100000);
  ASSERT_EQ(world.downs.size(), 4u);
  EXPECT_EQ(world.downs[3].flap, Down::while_flapping);
  ASSERT_EQ(world.stable_notices.size(), 1u);
  EXPECT_EQ(world.stable_notices[0].downs, 2u);
  EXPECT_EQ(world.launch_times.size(), 5u);
}

}  // namespace
}  // namespace guardian::health
