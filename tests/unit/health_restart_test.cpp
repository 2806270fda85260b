// Restart policy, exponential backoff with its cap and its reset after a stable uptime,
// and the circuit breaker — alone and inside the lifecycle on a fake clock.
#include <gtest/gtest.h>

#include "guardian/health/circuit_breaker.hpp"
#include "guardian/health/restart_policy.hpp"
#include "health_fake_world.hpp"

namespace guardian::health {
namespace {

using namespace std::chrono_literals;
using testing::FakeWorld;

TEST(RestartPolicy, ParsesTheThreeChoices) {
  EXPECT_EQ(parse_restart_policy("always"), RestartPolicy::always);
  EXPECT_EQ(parse_restart_policy("on-failure"), RestartPolicy::on_failure);
  EXPECT_EQ(parse_restart_policy("never"), RestartPolicy::never);
  EXPECT_FALSE(parse_restart_policy("sometimes").has_value());
  EXPECT_EQ(to_string(RestartPolicy::on_failure), "on-failure");
}

TEST(RestartPolicy, DecidesByPolicyAndCleanExit) {
  EXPECT_TRUE(should_restart(RestartPolicy::always, true));
  EXPECT_TRUE(should_restart(RestartPolicy::always, false));
  EXPECT_FALSE(should_restart(RestartPolicy::on_failure, true));
  EXPECT_TRUE(should_restart(RestartPolicy::on_failure, false));
  EXPECT_FALSE(should_restart(RestartPolicy::never, false));
}

TEST(RestartBackoff, DoublesUpToTheCap) {
  RestartBackoff backoff(500ms, 5s, 60s);
  std::vector<Milliseconds> delays;
  for (int i = 0; i < 7; ++i) delays.push_back(backoff.next_delay(1s));
  EXPECT_EQ(delays, (std::vector<Milliseconds>{500ms, 1s, 2s, 4s, 5s, 5s, 5s}));
}

TEST(RestartBackoff, StartsOverAfterAStableUptime) {
  RestartBackoff backoff(500ms, 30s, 60s);
  backoff.next_delay(std::nullopt);
  backoff.next_delay(10s);
  EXPECT_EQ(backoff.next_delay(59s), 2s);  // not stable yet
  EXPECT_EQ(backoff.next_delay(60s), 500ms);
  EXPECT_EQ(backoff.next_delay(1s), 1s);
}

TEST(RestartBackoff, ManyRestartsDoNotOverflow) {
  RestartBackoff backoff(1ms, 30s, 60s);
  Milliseconds last{0};
  for (int i = 0; i < 1000; ++i) last = backoff.next_delay(0ms);
  EXPECT_EQ(last, 30s);
}

TEST(CircuitBreaker, TripsOnMoreThanKFailuresWithinTheWindow) {
  using TP = CircuitBreaker::TimePoint;
  CircuitBreaker breaker(3, 60s);
  TP t{};
  EXPECT_FALSE(breaker.record_failure(t));
  EXPECT_FALSE(breaker.record_failure(t + 10s));
  EXPECT_FALSE(breaker.record_failure(t + 20s));
  EXPECT_TRUE(breaker.record_failure(t + 30s));  // the 4th within a minute
  EXPECT_TRUE(breaker.tripped());
  EXPECT_FALSE(breaker.record_failure(t + 40s));  // trips once
}

TEST(CircuitBreaker, OldFailuresLeaveTheWindow) {
  using TP = CircuitBreaker::TimePoint;
  CircuitBreaker breaker(3, 60s);
  TP t{};
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(breaker.record_failure(t + i * 25s)) << i;  // ≤ 3 per minute
  EXPECT_FALSE(breaker.tripped());
  EXPECT_EQ(breaker.recent_failures(), 3u);
}

TEST(CircuitBreaker, ResetForgetsTheFailures) {
  using TP = CircuitBreaker::TimePoint;
  CircuitBreaker breaker(2, 60s);
  TP t{};
  breaker.record_failure(t);
  breaker.record_failure(t + 1s);
  breaker.reset();
  EXPECT_FALSE(breaker.record_failure(t + 2s));
  EXPECT_FALSE(breaker.record_failure(t + 3s));
  EXPECT_TRUE(breaker.record_failure(t + 4s));
}

// A crash loop (exits at once, every time) trips the breaker: 6 failed starts (> 5) in
// 15.5 s with the default backoff, and the server is given up for good.
TEST(ServerRestarts, CrashLoopTripsTheBreaker) {
  FakeWorld world(LifecycleSettings{});
  world.behaviour = [](unsigned) { return FakeWorld::Behaviour{{}, 0ms, false}; };
  world.lifecycle.start(world.now);
  world.run_until([&] { return !world.give_ups.empty(); });
  ASSERT_EQ(world.give_ups.size(), 1u);
  EXPECT_EQ(world.give_ups[0].reason, GiveUpReason::breaker);
  EXPECT_EQ(world.launches.size(), 6u);
  EXPECT_EQ(world.elapsed(), 15500ms);  // 0.5 + 1 + 2 + 4 + 8
  EXPECT_EQ(world.lifecycle.state(), ServerState::fatal);
  EXPECT_FALSE(world.step());  // nothing more happens
}

// The breaker counts failed starts in a row: a successful start in between clears it.
TEST(ServerRestarts, SuccessfulStartClearsTheBreakerCount) {
  LifecycleSettings settings;
  settings.breaker_failures = 2;
  settings.startup_timeouts = {1s};
  FakeWorld world(settings);
  world.behaviour = [](unsigned launch) {
    FakeWorld::Behaviour b;
    if (launch % 3 == 0) {
      b.healthy_after = 100ms;
      b.exits_after = 500ms;  // up briefly, then crashes
    } else {
      b.exits_after = 0ms;  // a failed start
    }
    return b;
  };
  world.lifecycle.start(world.now);
  world.run_until([&] { return world.launches.size() >= 12; });
  EXPECT_TRUE(world.give_ups.empty()) << "2 failed starts then a good one, never 3 in a row";
  EXPECT_EQ(world.healthy_notices.size(), 3u);
}

TEST(ServerRestarts, BackoffResetsAfterStableUptime) {
  LifecycleSettings settings;
  settings.stable_uptime = 60s;
  FakeWorld world(settings);
  world.behaviour = [](unsigned launch) {
    FakeWorld::Behaviour b;
    b.healthy_after = 1s;
    b.exits_after = launch == 4 ? 100s : 5s;  // the 4th stays up long enough
    return b;
  };
  world.lifecycle.start(world.now);
  world.run_until([&] { return world.restart_delays.size() >= 5; });
  EXPECT_EQ(world.restart_delays, (std::vector<Milliseconds>{500ms, 1s, 2s, 500ms, 1s}));
}

TEST(ServerRestarts, UnhealthyAfterNConsecutiveFailedProbes) {
  LifecycleSettings settings;
  settings.unhealthy_after = 3;
  FakeWorld world(settings);
  world.behaviour = [](unsigned) { return FakeWorld::Behaviour{1s, {}, false}; };
  world.lifecycle.start(world.now);
  world.run_until([&] { return !world.healthy_notices.empty(); });
  auto probe = [&](ProbeClass c) {
    world.advance(1s);
    world.lifecycle.on_probe(world.now, c, 10ms, c == ProbeClass::failure ? "connection refused" : "HTTP 200");
  };
  probe(ProbeClass::failure);
  probe(ProbeClass::failure);
  probe(ProbeClass::ok);  // a good answer resets the count
  EXPECT_EQ(world.recovered_notices, (std::vector<unsigned>{2}));
  probe(ProbeClass::failure);
  probe(ProbeClass::failure);
  EXPECT_TRUE(world.downs.empty());
  EXPECT_EQ(world.probe_failing_notices, (std::vector<unsigned>{1, 1}));
  probe(ProbeClass::failure);
  ASSERT_EQ(world.downs.size(), 1u);
  EXPECT_EQ(world.downs[0].reason, DownReason::unhealthy);
  EXPECT_NE(world.downs[0].detail.find("connection refused"), std::string::npos);
  EXPECT_EQ(world.stops, 1);  // a hung server must be stopped before the restart
  ASSERT_TRUE(world.downs[0].restart_in.has_value());
  world.run_until([&] { return world.launches.size() == 2; });
  EXPECT_EQ(world.launches.size(), 2u);
}

TEST(ServerRestarts, SlowAnswersAreHealthyButNoticed) {
  FakeWorld world(LifecycleSettings{});
  world.behaviour = [](unsigned) { return FakeWorld::Behaviour{1s, {}, false}; };
  world.lifecycle.start(world.now);
  world.run_until([&] { return !world.healthy_notices.empty(); });
  world.lifecycle.on_probe(world.now, ProbeClass::slow_warning, 2500ms);
  world.lifecycle.on_probe(world.now, ProbeClass::slow_critical, 6s);
  EXPECT_EQ(world.slow_notices, (std::vector<ProbeClass>{ProbeClass::slow_warning, ProbeClass::slow_critical}));
  EXPECT_EQ(world.lifecycle.state(), ServerState::running);
  EXPECT_EQ(world.lifecycle.consecutive_probe_failures(), 0u);
}

TEST(ServerRestarts, OnFailureLeavesACleanExitDown) {
  LifecycleSettings settings;
  settings.restart = RestartPolicy::on_failure;
  FakeWorld world(settings);
  world.behaviour = [](unsigned) { return FakeWorld::Behaviour{1s, 5s, true}; };
  world.lifecycle.start(world.now);
  world.run_until([&] { return !world.settled_states.empty(); });
  ASSERT_EQ(world.downs.size(), 1u);
  EXPECT_FALSE(world.downs[0].restart_in.has_value());
  EXPECT_EQ(world.lifecycle.state(), ServerState::exited);
  EXPECT_EQ(world.launches.size(), 1u);
}

TEST(ServerRestarts, OnFailureRestartsACrash) {
  LifecycleSettings settings;
  settings.restart = RestartPolicy::on_failure;
  FakeWorld world(settings);
  world.behaviour = [](unsigned) { return FakeWorld::Behaviour{1s, 5s, false}; };
  world.lifecycle.start(world.now);
  world.run_until([&] { return world.launches.size() == 2; });
  EXPECT_EQ(world.launches.size(), 2u);
}

TEST(ServerRestarts, AlwaysRestartsEvenACleanExit) {
  FakeWorld world(LifecycleSettings{});
  world.behaviour = [](unsigned) { return FakeWorld::Behaviour{1s, 5s, true}; };
  world.lifecycle.start(world.now);
  world.run_until([&] { return world.launches.size() == 2; });
  EXPECT_EQ(world.launches.size(), 2u);
}

TEST(ServerRestarts, NeverMeansDownForGood) {
  LifecycleSettings settings;
  settings.restart = RestartPolicy::never;
  FakeWorld world(settings);
  world.behaviour = [](unsigned) { return FakeWorld::Behaviour{1s, 5s, false}; };
  world.lifecycle.start(world.now);
  world.run_until([&] { return !world.settled_states.empty(); });
  EXPECT_EQ(world.lifecycle.state(), ServerState::exited);
  EXPECT_EQ(world.launches.size(), 1u);
}

TEST(ServerRestarts, NeverGivesUpOnAFailedStart) {
  LifecycleSettings settings;
  settings.restart = RestartPolicy::never;
  FakeWorld world(settings);
  world.behaviour = [](unsigned) { return FakeWorld::Behaviour{{}, 1s, false}; };
  world.lifecycle.start(world.now);
  world.run_until([&] { return !world.give_ups.empty(); });
  ASSERT_EQ(world.give_ups.size(), 1u);
  EXPECT_EQ(world.give_ups[0].reason, GiveUpReason::policy);
}

TEST(ServerRestarts, LaunchFailureCountsAsAFailedStart) {
  LifecycleSettings settings;
  settings.initial_attempts = 2;
  FakeWorld world(settings);
  world.fail_launches = true;
  world.lifecycle.start(world.now);
  world.run_until([&] { return !world.give_ups.empty(); });
  ASSERT_EQ(world.start_failures.size(), 2u);
  EXPECT_EQ(world.start_failures[0].reason, StartFailure::launch_failed);
  EXPECT_EQ(world.give_ups[0].reason, GiveUpReason::never_healthy);
}

TEST(ServerStop, StopWhileRunningStopsTheTreeAndSettles) {
  FakeWorld world(LifecycleSettings{});
  world.behaviour = [](unsigned) { return FakeWorld::Behaviour{1s, {}, false}; };
  world.lifecycle.start(world.now);
  world.run_until([&] { return !world.healthy_notices.empty(); });
  EXPECT_TRUE(world.lifecycle.request_stop(world.now));
  EXPECT_EQ(world.stops, 1);
  world.step();  // the tree ends
  EXPECT_EQ(world.lifecycle.state(), ServerState::stopped);
  EXPECT_EQ(world.settled_states, (std::vector<ServerState>{ServerState::stopped}));
  EXPECT_TRUE(world.downs.empty()) << "a requested stop is not a SERVER_DOWN";
  EXPECT_FALSE(world.step());
}

TEST(ServerStop, StopDuringBackoffCancelsTheRestart) {
  FakeWorld world(LifecycleSettings{});
  world.behaviour = [](unsigned) { return FakeWorld::Behaviour{{}, 1s, false}; };
  world.lifecycle.start(world.now);
  world.run_until([&] { return world.lifecycle.state() == ServerState::backoff; });
  EXPECT_FALSE(world.lifecycle.request_stop(world.now));
  EXPECT_EQ(world.restart_cancels, 1);
  EXPECT_EQ(world.lifecycle.state(), ServerState::stopped);
  EXPECT_FALSE(world.step());
}

TEST(ServerStop, StopWhileAGiveUpIsUnderwayKeepsTheGiveUp) {
  LifecycleSettings settings;
  settings.initial_attempts = 1;
  settings.startup_timeouts = {1s};
  FakeWorld world(settings);
  world.lifecycle.start(world.now);
  world.advance(1s);
  world.deadline.reset();
  world.lifecycle.on_startup_deadline(world.now);  // gives up; the tree is still ending
  EXPECT_TRUE(world.lifecycle.request_stop(world.now));
  world.step();
  EXPECT_EQ(world.lifecycle.state(), ServerState::fatal);
  EXPECT_EQ(world.give_ups.size(), 1u);
}

}  // namespace
}  // namespace guardian::health
