// Resource protector decisions: who monopolises (share of the ceiling for N checks), renice
// then terminate after the grace period under kill, never the root or the protected list,
// nothing under off, pid reuse is a new process, and the circuit breaker.
#include <gtest/gtest.h>

#include "guardian/monitor/resource_protector.hpp"

namespace {

using namespace guardian::monitor;
using namespace std::chrono_literals;

ProcessUse use(pid_t pid, double cpu, double memory = 1, bool root = false, std::uint64_t start = 100) {
  ProcessUse u;
  u.pid = pid;
  u.start_ticks = start;
  u.cpu_percent_of_ceiling = cpu;
  u.memory_percent_of_ceiling = memory;
  u.is_root = root;
  return u;
}

IdentityLookup names() {
  return [](pid_t pid) {
    if (pid == 50) return ProcessIdentity{"postgres", "postgres -D /data"};
    return ProcessIdentity{"spin", "guardian-target spin 1 30"};
  };
}

class ProtectorTest : public ::testing::Test {
 protected:
  SteadyTime now = SteadyTime(std::chrono::hours(10));
  ProtectorPolicy policy(ProtectMode mode) {
    ProtectorPolicy p;
    p.mode = mode;
    p.persistence_checks = 3;
    p.grace = 30s;
    return p;
  }
  std::vector<ProtectorAction> check(ResourceProtector& p, std::vector<ProcessUse> processes,
                                     std::chrono::milliseconds step = 1s) {
    now += step;
    return p.evaluate(now, processes, names());
  }
};

TEST_F(ProtectorTest, WalkOnlyWhenTheTreeCouldHoldAMonopoliser) {
  ResourceProtector p(policy(ProtectMode::renice));
  EXPECT_FALSE(p.needs_walk(50.0, 10.0));
  EXPECT_TRUE(p.needs_walk(85.0, 10.0));
  EXPECT_TRUE(p.needs_walk(std::nullopt, 81.0));
  EXPECT_FALSE(p.needs_walk(std::nullopt, 10.0));
  ResourceProtector off(policy(ProtectMode::off));
  EXPECT_FALSE(off.needs_walk(100.0, 100.0));
}

TEST_F(ProtectorTest, RenicesAfterNChecksOnce) {
  ResourceProtector p(policy(ProtectMode::renice));
  EXPECT_TRUE(check(p, {use(10, 20, 1, true), use(11, 95)}).empty());
  EXPECT_TRUE(check(p, {use(10, 20, 1, true), use(11, 95)}).empty());
  auto actions = check(p, {use(10, 20, 1, true), use(11, 95)});
  ASSERT_EQ(actions.size(), 1u);
  EXPECT_EQ(actions[0].kind, ActionKind::renice);
  EXPECT_EQ(actions[0].pid, 11);
  EXPECT_EQ(actions[0].name, "spin");
  EXPECT_NE(actions[0].reason.find("cpu at 95% of the ceiling"), std::string::npos);
  // Renice mode never goes further, however long it keeps going.
  for (int i = 0; i < 120; ++i) EXPECT_TRUE(check(p, {use(11, 95)}).empty());
  EXPECT_EQ(p.counts().reniced, 1);
  EXPECT_EQ(p.counts().terminated, 0);
}

TEST_F(ProtectorTest, MemoryHogCountsToo) {
  ResourceProtector p(policy(ProtectMode::renice));
  check(p, {use(11, 0, 85)});
  check(p, {use(11, 0, 85)});
  auto actions = check(p, {use(11, 0, 85)});
  ASSERT_EQ(actions.size(), 1u);
  EXPECT_NE(actions[0].reason.find("memory at 85%"), std::string::npos);
}

TEST_F(ProtectorTest, ABreakInTheStreakStartsOver) {
  ResourceProtector p(policy(ProtectMode::renice));
  check(p, {use(11, 95)});
  check(p, {use(11, 95)});
  check(p, {use(11, 10)});
  check(p, {use(11, 95)});
  EXPECT_TRUE(check(p, {use(11, 95)}).empty());
  EXPECT_EQ(check(p, {use(11, 95)}).size(), 1u);
  // A check without a walk (tree under the shares) also breaks streaks.
  ResourceProtector q(policy(ProtectMode::renice));
  check(q, {use(11, 95)});
  check(q, {use(11, 95)});
  q.calm();
  EXPECT_TRUE(check(q, {use(11, 95)}).empty());
}

TEST_F(ProtectorTest, FirstSightWithoutRateIsNotAbove) {
  ResourceProtector p(policy(ProtectMode::renice));
  ProcessUse fresh = use(11, 0);
  fresh.cpu_percent_of_ceiling.reset();
  check(p, {fresh});
  check(p, {use(11, 95)});
  EXPECT_TRUE(check(p, {use(11, 95)}).empty());
  EXPECT_EQ(check(p, {use(11, 95)}).size(), 1u);
}

TEST_F(ProtectorTest, KillModeTerminatesAfterGrace) {
  ResourceProtector p(policy(ProtectMode::kill));
  check(p, {use(11, 95)});
  check(p, {use(11, 95)});
  auto actions = check(p, {use(11, 95)});
  ASSERT_EQ(actions.size(), 1u);
  EXPECT_EQ(actions[0].kind, ActionKind::renice) << "renice comes first, even under kill";
  for (int i = 0; i < 29; ++i) EXPECT_TRUE(check(p, {use(11, 95)}).empty()) << i;
  actions = check(p, {use(11, 95)});
  ASSERT_EQ(actions.size(), 1u);
  EXPECT_EQ(actions[0].kind, ActionKind::terminate);
  EXPECT_EQ(actions[0].pid, 11);
  EXPECT_TRUE(check(p, {use(11, 95)}).empty()) << "terminated once";
  EXPECT_EQ(p.counts().terminated, 1);
}

TEST_F(ProtectorTest, KillModeGraceRestartsWhenTheProcessCalmsDown) {
  ResourceProtector p(policy(ProtectMode::kill));
  for (int i = 0; i < 3; ++i) check(p, {use(11, 95)});  // reniced
  for (int i = 0; i < 20; ++i) check(p, {use(11, 95)});
  check(p, {use(11, 5)});  // renice helped for a moment
  for (int i = 0; i < 3 + 20; ++i) EXPECT_TRUE(check(p, {use(11, 95)}).empty());
  std::vector<ProtectorAction> actions;
  for (int i = 0; i < 10 && actions.empty(); ++i) actions = check(p, {use(11, 95)});
  ASSERT_EQ(actions.size(), 1u);
  EXPECT_EQ(actions[0].kind, ActionKind::terminate);
}

TEST_F(ProtectorTest, RootIsNeverTouchedOnlyReported) {
  ResourceProtector p(policy(ProtectMode::kill));
  std::vector<ProtectorAction> all;
  for (int i = 0; i < 300; ++i)
    for (auto& a : check(p, {use(10, 99, 99, true)})) all.push_back(a);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].kind, ActionKind::spare);
  EXPECT_NE(all[0].reason.find("command's own process"), std::string::npos);
  EXPECT_EQ(p.counts().spared, 1);
}

TEST_F(ProtectorTest, ProtectedListMatchesNameOrCommandLine) {
  ProtectorPolicy pol = policy(ProtectMode::kill);
  pol.protected_patterns = {"postgres"};
  ResourceProtector p(pol);
  std::vector<ProtectorAction> all;
  for (int i = 0; i < 100; ++i)
    for (auto& a : check(p, {use(50, 99)})) all.push_back(a);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].kind, ActionKind::spare);
  EXPECT_NE(all[0].reason.find("protected list"), std::string::npos);

  ProtectorPolicy glob = policy(ProtectMode::kill);
  glob.protected_patterns = {"*target spin*"};
  ResourceProtector q(glob);
  EXPECT_TRUE(q.is_protected({"spin", "guardian-target spin 1 30"}));
  EXPECT_FALSE(q.is_protected({"postgres", "postgres -D /data"}));
}

TEST_F(ProtectorTest, OffDoesNothing) {
  ResourceProtector p(policy(ProtectMode::off));
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(check(p, {use(11, 99, 99)}).empty());
  std::optional<ProtectorAction> breaker;
  EXPECT_FALSE(p.allow_disk_cleanup(now, breaker));
}

TEST_F(ProtectorTest, AReusedPidIsANewProcess) {
  ResourceProtector p(policy(ProtectMode::renice));
  check(p, {use(11, 95, 1, false, 100)});
  check(p, {use(11, 95, 1, false, 100)});
  // pid 11 ended and was reused by an unrelated process (another start time).
  EXPECT_TRUE(check(p, {use(11, 95, 1, false, 777)}).empty());
  EXPECT_TRUE(check(p, {use(11, 95, 1, false, 777)}).empty());
  auto actions = check(p, {use(11, 95, 1, false, 777)});
  ASSERT_EQ(actions.size(), 1u);
  EXPECT_EQ(actions[0].start_ticks, 777u);
}

TEST_F(ProtectorTest, CircuitBreakerStopsActingAfterKActionsInTheWindow) {
  ProtectorPolicy pol = policy(ProtectMode::renice);
  pol.persistence_checks = 1;
  pol.breaker_actions = 3;
  pol.breaker_window = 1min;
  ResourceProtector p(pol);
  // A fork loop: a new hog every check.
  int renices = 0;
  std::vector<ProtectorAction> breaker_actions;
  for (pid_t pid = 100; pid < 110; ++pid) {
    for (auto& a : check(p, {use(pid, 99)})) {
      if (a.kind == ActionKind::renice) ++renices;
      if (a.kind == ActionKind::breaker_open) breaker_actions.push_back(a);
    }
  }
  EXPECT_EQ(renices, 3);
  ASSERT_EQ(breaker_actions.size(), 1u) << "opened once";
  EXPECT_NE(breaker_actions[0].reason.find("acted 3 times within 1m"), std::string::npos);
  EXPECT_TRUE(p.breaker_open());
  EXPECT_FALSE(p.active());
  EXPECT_FALSE(p.needs_walk(100.0, 100.0));
  std::optional<ProtectorAction> breaker;
  EXPECT_FALSE(p.allow_disk_cleanup(now, breaker));
}

TEST_F(ProtectorTest, ActionsOutsideTheWindowDoNotCount) {
  ProtectorPolicy pol = policy(ProtectMode::renice);
  pol.persistence_checks = 1;
  pol.breaker_actions = 2;
  pol.breaker_window = 10s;
  ResourceProtector p(pol);
  int renices = 0;
  for (pid_t pid = 100; pid < 110; ++pid)
    for (auto& a : check(p, {use(pid, 99)}, 6s)) renices += a.kind == ActionKind::renice;
  EXPECT_EQ(renices, 10);
  EXPECT_FALSE(p.breaker_open());
}

TEST_F(ProtectorTest, DiskCleanupsCountAgainstTheBreaker) {
  ProtectorPolicy pol = policy(ProtectMode::renice);
  pol.breaker_actions = 2;
  ResourceProtector p(pol);
  std::optional<ProtectorAction> breaker;
  EXPECT_TRUE(p.allow_disk_cleanup(now, breaker));
  EXPECT_TRUE(p.allow_disk_cleanup(now, breaker));
  EXPECT_FALSE(p.allow_disk_cleanup(now, breaker));
  ASSERT_TRUE(breaker);
  EXPECT_EQ(breaker->kind, ActionKind::breaker_open);
  EXPECT_EQ(p.counts().disk_cleanups, 2);
}

TEST(ProtectModeTest, Parse) {
  EXPECT_EQ(parse_protect_mode("kill"), ProtectMode::kill);
  EXPECT_EQ(parse_protect_mode("off"), ProtectMode::off);
  EXPECT_FALSE(parse_protect_mode("nuke"));
  EXPECT_EQ(to_string(ProtectMode::renice), "renice");
}

}  // namespace
