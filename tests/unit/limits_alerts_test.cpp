// The alerts and report entries of the limits component: a memory-ceiling kill and a
// cgroupfs permission problem, as a plugin or the journal will see them.
#include <gtest/gtest.h>

#include "guardian/limits/limit_alerts.hpp"

namespace guardian::limits {
namespace {

TEST(LimitsAlerts, ACeilingKillIsAMemoryCeilingKillAlertWithItsNumbers) {
  Breach breach;
  breach.kind = Breach::Kind::memory_ceiling;
  breach.ceiling = 64ull << 20;
  breach.peak = 65ull << 20;
  breach.oom_kills = 2;
  breach.kernel_killed = true;
  breach.message = "memory ceiling: …";
  auto spec = ceiling_kill_alert(breach, "main", "pytest");
  EXPECT_EQ(spec.type, alerts::AlertType::memory_ceiling_kill);
  EXPECT_EQ(spec.subject, "main");
  EXPECT_EQ(spec.source, "limits");
  EXPECT_EQ(spec.title, "'pytest' killed at its memory ceiling");
  EXPECT_EQ(spec.context["kind"], "memory_ceiling");
  EXPECT_EQ(spec.context["ceiling"], 64ull << 20);
  EXPECT_EQ(spec.context["peak"], 65ull << 20);
  EXPECT_EQ(spec.context["oom_kills"], 2);
}

TEST(LimitsAlerts, OnlyPermissionProblemsBecomePermissionErrorAlerts) {
  auto alert = limits_problem_alert("limits.permission_denied", "writing '+memory' to …: Permission denied");
  ASSERT_TRUE(alert);
  EXPECT_EQ(alert->type, alerts::AlertType::permission_error);
  EXPECT_EQ(alert->message, "writing '+memory' to …: Permission denied");
  EXPECT_FALSE(limits_problem_alert("limits.fallback", "hybrid"));
  EXPECT_FALSE(limits_problem_alert("limits.cgroup_failed", "EBUSY"));
}

}  // namespace
}  // namespace guardian::limits
