// The level state machine on a fake clock: escalation, calm-down one level per calm
// period, IDLE after a quiet stretch, waking up, heavy phases, pinning — with the real
// default intervals' arithmetic (60 s calm, 5 min idle).
#include <gtest/gtest.h>

#include "guardian/monitor/level.hpp"
#include "guardian/monitor/progressive_monitor.hpp"

namespace {

using namespace guardian::monitor;
using namespace std::chrono_literals;

class LevelMachineTest : public ::testing::Test {
 protected:
  SteadyTime t0 = SteadyTime(std::chrono::hours(1000));
  SteadyTime now = t0;

  // Checks every `step` for `total`, with the tree at `cpu` % of a core; returns every change.
  std::vector<LevelChange> run_checks(ProgressiveMonitor& m, std::chrono::milliseconds total,
                                      std::chrono::milliseconds step, double cpu) {
    std::vector<LevelChange> changes;
    for (auto elapsed = 0ms; elapsed < total; elapsed += step) {
      now += step;
      if (auto change = m.observe(now, cpu)) changes.push_back(*change);
    }
    return changes;
  }
};

TEST(LevelTest, NamesParseAndOrder) {
  EXPECT_EQ(to_string(Level::intensive), "INTENSIVE");
  EXPECT_EQ(parse_level("critical"), Level::critical);
  EXPECT_EQ(parse_level("Idle"), Level::idle);
  EXPECT_FALSE(parse_level("loud"));
  EXPECT_LT(Level::normal, Level::intensive);
  EXPECT_EQ(one_up(Level::critical), Level::critical);
  EXPECT_EQ(one_down(Level::idle), Level::idle);
  IntervalTable table;
  EXPECT_EQ(table[Level::idle].check_interval, 30s);
  EXPECT_EQ(table[Level::idle].report_interval, 5min);
  EXPECT_EQ(table[Level::normal].check_interval, 5s);
  EXPECT_EQ(table[Level::normal].report_interval, 1min);
  EXPECT_EQ(table[Level::intensive].check_interval, 1s);
  EXPECT_EQ(table[Level::intensive].report_interval, 10s);
  EXPECT_EQ(table[Level::critical].check_interval, 500ms);
  EXPECT_EQ(table[Level::critical].report_interval, 2s);
}

TEST_F(LevelMachineTest, StartsNormal) {
  ProgressiveMonitor m({}, t0);
  EXPECT_EQ(m.level(), Level::normal);
  EXPECT_EQ(m.reason(), "start");
  EXPECT_FALSE(m.observe(t0 + 5s, 40.0));
  EXPECT_EQ(m.level(), Level::normal);
}

TEST_F(LevelMachineTest, CriticalConditionEscalatesAtOnce) {
  ProgressiveMonitor m({}, t0);
  auto change = m.raise(t0 + 1s, "threshold:cpu", Severity::critical, "cpu at 91% of the ceiling");
  ASSERT_TRUE(change);
  EXPECT_EQ(change->from, Level::normal);
  EXPECT_EQ(change->to, Level::critical);
  EXPECT_EQ(change->reason, "cpu at 91% of the ceiling");
  EXPECT_EQ(m.level(), Level::critical);
}

TEST_F(LevelMachineTest, WarningEscalatesToIntensiveOnlyAndNeverLowers) {
  ProgressiveMonitor m({}, t0);
  auto change = m.raise(t0, "threshold:memory", Severity::warning, "memory at 80%");
  ASSERT_TRUE(change);
  EXPECT_EQ(change->to, Level::intensive);
  // A warning while already CRITICAL does not lower the level.
  m.raise(t0 + 1s, "server:api", Severity::critical, "server api is down");
  EXPECT_EQ(m.level(), Level::critical);
  EXPECT_FALSE(m.raise(t0 + 2s, "threshold:disk:/", Severity::warning, "disk 81%"));
  EXPECT_EQ(m.level(), Level::critical);
}

TEST_F(LevelMachineTest, CalmsDownOneLevelPerCalmPeriodWithDefaults) {
  ProgressiveMonitor m({}, t0);
  m.raise(now, "threshold:cpu", Severity::critical, "cpu at 91%");
  now += 3s;
  m.clear(now, "threshold:cpu");
  EXPECT_EQ(m.level(), Level::critical);

  // CRITICAL checks every 500 ms: nothing happens for 59.5 s after the condition ended…
  auto changes = run_checks(m, 59500ms, 500ms, 30.0);
  EXPECT_TRUE(changes.empty());
  EXPECT_EQ(m.level(), Level::critical);
  // …then one step down at 60 s,
  changes = run_checks(m, 500ms, 500ms, 30.0);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].from, Level::critical);
  EXPECT_EQ(changes[0].to, Level::intensive);
  EXPECT_EQ(changes[0].reason, "calm: no critical condition for 1m");
  // and another calm minute (INTENSIVE checks every second) for the next step.
  changes = run_checks(m, 59s, 1s, 30.0);
  EXPECT_TRUE(changes.empty());
  changes = run_checks(m, 1s, 1s, 30.0);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].to, Level::normal);
  // NORMAL is the floor while the tree is busy.
  changes = run_checks(m, 10min, 5s, 30.0);
  EXPECT_TRUE(changes.empty());
  EXPECT_EQ(m.level(), Level::normal);
}

TEST_F(LevelMachineTest, HeldWarningKeepsIntensiveButLetsCriticalGo) {
  ProgressiveMonitor m({}, t0);
  m.raise(now, "threshold:cpu", Severity::critical, "cpu at 91%");
  now += 1s;
  m.raise(now, "threshold:cpu", Severity::warning, "cpu at 75%");  // fell to warning, still held
  auto changes = run_checks(m, 60s, 500ms, 150.0);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].to, Level::intensive);
  changes = run_checks(m, 10min, 1s, 150.0);
  EXPECT_TRUE(changes.empty()) << "a held warning keeps INTENSIVE";
  now += 1s;
  m.clear(now, "threshold:cpu");
  changes = run_checks(m, 61s, 1s, 150.0);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].to, Level::normal);
}

// A dev server that hung and recovered (issue 13), in the order ServerSupervisor tells the
// monitor (as events.jsonl of a real serve showed it): a failed probe (warning), the down
// (probe cleared, down raised, critical), the restart healthy (down cleared), then slow
// answers (warning pulses) while CRITICAL. The calm period counts from the recovery: one
// step down exactly one calm period after it, not later; NORMAL one more calm period on
// (one level per calm period, held at least that long at each level).
TEST_F(LevelMachineTest, ARecoveredServerStepsDownOneCalmPeriodAfterItsRecovery) {
  ProgressiveMonitor m({}, t0);
  m.raise(now, "server.web.probe", Severity::warning, "server 'web' failed a health check");
  EXPECT_EQ(m.level(), Level::intensive);
  now += 2s;
  m.clear(now, "server.web.probe");
  m.raise(now, "server.web.down", Severity::critical, "server 'web' went down");
  EXPECT_EQ(m.level(), Level::critical);
  run_checks(m, 3s, 500ms, 30.0);
  m.clear(now, "server.web.down");  // healthy again: SERVER_UP
  const SteadyTime recovered = now;
  std::vector<LevelChange> changes;
  for (int i = 0; i < 3; ++i) {  // slow answers: SERVER_SLOW warnings, never above INTENSIVE
    auto more = run_checks(m, 15s, 500ms, 30.0);
    changes.insert(changes.end(), more.begin(), more.end());
    if (auto change = m.pulse(now, Severity::warning, "server 'web' answered slowly")) changes.push_back(*change);
  }
  auto more = run_checks(m, 15s + 500ms, 500ms, 30.0);
  changes.insert(changes.end(), more.begin(), more.end());
  ASSERT_EQ(changes.size(), 1u) << "one step in the calm period after the recovery";
  EXPECT_EQ(changes[0].from, Level::critical);
  EXPECT_EQ(changes[0].to, Level::intensive);
  EXPECT_EQ(changes[0].at - recovered, 60s) << "the step down must come one calm period after the recovery";
  changes = run_checks(m, 60s, 1s, 30.0);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].to, Level::normal);
  EXPECT_LE(changes[0].at - recovered, 121s);
}

TEST_F(LevelMachineTest, ANewWarningRestartsTheCalmPeriod) {
  ProgressiveMonitor m({}, t0);
  m.raise(now, "a", Severity::warning, "w");
  m.clear(now, "a");
  run_checks(m, 50s, 1s, 10.0);
  m.raise(now, "a", Severity::warning, "w again");
  m.clear(now, "a");
  auto changes = run_checks(m, 50s, 1s, 10.0);
  EXPECT_TRUE(changes.empty());
  changes = run_checks(m, 10s, 1s, 10.0);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].to, Level::normal);
}

TEST_F(LevelMachineTest, IdleAfterFiveQuietMinutesAndAwakeOnActivity) {
  ProgressiveMonitor m({}, t0);
  m.observe(t0, std::nullopt);  // the sampler's first check has no rate yet
  auto changes = run_checks(m, 4min + 55s, 5s, 0.5);
  EXPECT_TRUE(changes.empty());
  changes = run_checks(m, 5s, 5s, 0.5);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].to, Level::idle);
  EXPECT_NE(changes[0].reason.find("nearly idle"), std::string::npos);
  // IDLE checks every 30 s; a busy tree wakes it at the next check.
  changes = run_checks(m, 30s, 30s, 0.5);
  EXPECT_TRUE(changes.empty());
  changes = run_checks(m, 30s, 30s, 25.0);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].from, Level::idle);
  EXPECT_EQ(changes[0].to, Level::normal);
}

TEST_F(LevelMachineTest, ABusyCheckRestartsTheIdleClock) {
  ProgressiveMonitor m({}, t0);
  m.observe(t0, std::nullopt);
  run_checks(m, 4min, 5s, 0.2);
  run_checks(m, 5s, 5s, 3.0);
  auto changes = run_checks(m, 4min + 55s, 5s, 0.2);
  EXPECT_TRUE(changes.empty());
  changes = run_checks(m, 5s, 5s, 0.2);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].to, Level::idle);
}

TEST_F(LevelMachineTest, ConditionFromIdleGoesStraightToItsLevel) {
  ProgressiveMonitor m({}, t0);
  m.observe(t0, std::nullopt);
  run_checks(m, 5min, 5s, 0.0);
  ASSERT_EQ(m.level(), Level::idle);
  auto change = m.raise(now, "server:api", Severity::critical, "server api is down");
  ASSERT_TRUE(change);
  EXPECT_EQ(change->from, Level::idle);
  EXPECT_EQ(change->to, Level::critical);
}

TEST_F(LevelMachineTest, FirstSampleWithoutRateDoesNotCountAsIdle) {
  ProgressiveSettings settings;
  settings.idle_after = 10s;
  ProgressiveMonitor m(settings, t0);
  EXPECT_FALSE(m.observe(t0 + 5s, std::nullopt));
  EXPECT_FALSE(m.observe(t0 + 10s, 0.0));  // quiet since the check at +5 s
  auto change = m.observe(t0 + 15s, 0.0);
  ASSERT_TRUE(change);
  EXPECT_EQ(change->to, Level::idle);
}

TEST_F(LevelMachineTest, PulseEscalatesThenCalmsDown) {
  ProgressiveMonitor m({}, t0);
  auto change = m.pulse(now, Severity::critical, "memory ceiling kill");
  ASSERT_TRUE(change);
  EXPECT_EQ(change->to, Level::critical);
  EXPECT_TRUE(m.conditions().empty()) << "a pulse is not held";
  auto changes = run_checks(m, 2min, 500ms, 5.0);
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_EQ(changes[0].to, Level::intensive);
  EXPECT_EQ(changes[1].to, Level::normal);
}

TEST_F(LevelMachineTest, HeavyPhaseHoldsIntensive) {
  ProgressiveMonitor m({}, t0);
  auto change = m.begin_heavy_phase(now, "collect");
  ASSERT_TRUE(change);
  EXPECT_EQ(change->to, Level::intensive);
  EXPECT_EQ(change->reason, "heavy phase 'collect'");
  auto changes = run_checks(m, 5min, 1s, 0.0);
  EXPECT_TRUE(changes.empty()) << "neither calm-down nor IDLE during a heavy phase";
  m.end_heavy_phase(now, "collect");
  changes = run_checks(m, 60s, 1s, 50.0);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].to, Level::normal);
}

TEST_F(LevelMachineTest, PinnedLevelNeverChanges) {
  ProgressiveSettings settings;
  settings.pinned = Level::intensive;
  ProgressiveMonitor m(settings, t0);
  EXPECT_EQ(m.level(), Level::intensive);
  EXPECT_EQ(m.reason(), "pinned by --level");
  EXPECT_FALSE(m.raise(now, "x", Severity::critical, "critical"));
  EXPECT_EQ(m.conditions().size(), 1u) << "conditions are still tracked";
  EXPECT_FALSE(m.pulse(now, Severity::critical, "kill"));
  EXPECT_TRUE(run_checks(m, 10min, 1s, 0.0).empty());
  EXPECT_EQ(m.level(), Level::intensive);
}

TEST_F(LevelMachineTest, TimePerLevelAndVisits) {
  ProgressiveMonitor m({}, t0);
  m.raise(t0 + 10s, "x", Severity::critical, "boom");
  m.clear(t0 + 12s, "x");
  m.observe(t0 + 72s, 10.0);  // → INTENSIVE
  auto times = m.time_per_level(t0 + 100s);
  EXPECT_EQ(times[Level::normal], 10s);
  EXPECT_EQ(times[Level::critical], 62s);
  EXPECT_EQ(times[Level::intensive], 28s);
  EXPECT_EQ(m.visits().at(Level::normal), 1);
  EXPECT_EQ(m.visits().at(Level::critical), 1);
  EXPECT_EQ(m.visits().at(Level::intensive), 1);
}

}  // namespace
