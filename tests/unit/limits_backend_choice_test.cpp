// Which backend guardian picks on each kind of machine, from the probe of a fake cgroupfs
// (layout, own cgroup, controllers) and from probes describing delegation and permissions.
#include <gtest/gtest.h>
#include <linux/magic.h>

#include "guardian/limits/backend_choice.hpp"
#include "guardian/limits/cgroup_probe.hpp"
#include "guardian/limits/enclosing_cap.hpp"
#include "limits_fake_cgroupfs.hpp"

namespace guardian::limits {
namespace {

using testing::FakeCgroupFs;
using testing::fixture;

// A probe source over `fake`: the mount root is cgroup2 (unified) or tmpfs with a cgroup2
// "unified" directory (hybrid); guardian is pid 100, its sentinel 101.
ProbeSources sources(const FakeCgroupFs& fake, bool hybrid, uid_t euid = 0) {
  ProbeSources s;
  s.cgroup_root = fake.root();
  s.proc_self_cgroup = fake.root() / "proc_self_cgroup";
  auto root = fake.root();
  s.fs_magic = [root, hybrid](const std::filesystem::path& path) -> std::optional<long> {
    if (path == root) return hybrid ? TMPFS_MAGIC : CGROUP2_SUPER_MAGIC;
    if (hybrid && path == root / "unified") return CGROUP2_SUPER_MAGIC;
    return std::nullopt;
  };
  s.is_own_process = [](pid_t pid) { return pid == 100 || pid == 101; };
  s.euid = euid;
  s.has_systemd_user_session = [] { return false; };
  return s;
}

TEST(LimitsBackendChoice, HybridHostFallsBackToTheWatchdogAndSaysWhy) {
  FakeCgroupFs fake;
  fake.put("unified", "cgroup.controllers", fixture("cgroup.controllers.hybrid_host"));
  fake.put("unified", "cgroup.subtree_control", "");
  fake.put("unified", "cgroup.procs", "100\n101\n555\n");
  fake.put("", "proc_self_cgroup", fixture("proc_self_cgroup.hybrid"));
  auto probe = probe_cgroups(sources(fake, true));
  EXPECT_EQ(probe.layout, Layout::hybrid);
  EXPECT_EQ(probe.v2_mount, fake.root() / "unified");
  EXPECT_EQ(probe.own_path, "/");
  EXPECT_TRUE(probe.mount_is_real_root);
  auto choice = choose_backend(probe, "auto", false);
  EXPECT_EQ(choice.backend, Backend::watchdog);
  EXPECT_NE(choice.reason.find("hybrid"), std::string::npos) << choice.reason;
  EXPECT_NE(choice.reason.find("only hugetlb"), std::string::npos) << choice.reason;
  ASSERT_FALSE(choice.fixes.empty());
  EXPECT_NE(choice.fixes[0].find("systemd.unified_cgroup_hierarchy=1"), std::string::npos);
}

TEST(LimitsBackendChoice, RootInTheRootCgroupOfAPureV2MachineUsesTheRoot) {
  FakeCgroupFs fake;  // like the VM: guardian as root in "/"
  fake.put("", "cgroup.controllers", fixture("cgroup.controllers.vm_root"));
  fake.put("", "cgroup.subtree_control", "cpu memory pids\n");
  fake.put("", "cgroup.procs", "1\n100\n101\n");
  fake.put("", "proc_self_cgroup", fixture("proc_self_cgroup.root"));
  fake.cgroup("init.scope");
  auto probe = probe_cgroups(sources(fake, false));
  EXPECT_EQ(probe.layout, Layout::unified);
  EXPECT_TRUE(probe.own_is_root);
  EXPECT_TRUE(probe.mount_is_real_root);
  EXPECT_TRUE(probe.has_kill_file);  // seen in a child: the root itself has no cgroup.kill
  EXPECT_EQ(probe.foreign_procs, (std::vector<pid_t>{1}));
  auto choice = choose_backend(probe, "auto", false);
  EXPECT_EQ(choice.backend, Backend::cgroup_v2);
  EXPECT_EQ(choice.parent_dir, "");
  EXPECT_FALSE(choice.move_self_to_leaf);  // the root is exempt from "no internal processes"
  EXPECT_EQ(choice.controllers, (std::vector<std::string>{"memory", "cpu", "pids"}));
  EXPECT_TRUE(choice.fixes.empty());
}

TEST(LimitsBackendChoice, DelegatedScopeMovesGuardianIntoALeafFirst) {
  FakeCgroupFs fake;
  const std::string scope = "user.slice/user-1000.slice/user@1000.service/app.slice/guardian.scope";
  fake.put("", "cgroup.controllers", fixture("cgroup.controllers.vm_root"));
  fake.put("", "cgroup.subtree_control", "cpu memory pids\n");
  fake.put("", "proc_self_cgroup", fixture("proc_self_cgroup.user_scope"));
  fake.cgroup(scope);
  fake.put(scope, "cgroup.procs", "100\n101\n");
  fake.put(scope, "memory.max", "4294967296\n");
  fake.put("user.slice", "cpu.max", "200000 100000\n");
  auto probe = probe_cgroups(sources(fake, false, 1000));
  EXPECT_FALSE(probe.own_is_root);
  EXPECT_TRUE(probe.own_writable);
  EXPECT_TRUE(probe.foreign_procs.empty());
  EXPECT_EQ(probe.enclosing_memory_bytes, std::optional<std::uint64_t>(4294967296));
  EXPECT_EQ(probe.enclosing_cpu_cores, std::optional<double>(2.0));
  auto choice = choose_backend(probe, "auto", false);
  EXPECT_EQ(choice.backend, Backend::cgroup_v2);
  EXPECT_EQ(choice.parent_dir, scope);
  EXPECT_TRUE(choice.move_self_to_leaf);
}

CgroupProbe unified_user_probe() {
  CgroupProbe probe;
  probe.layout = Layout::unified;
  probe.v2_mount = "/sys/fs/cgroup";
  probe.own_path = "/user.slice/user-1000.slice/session-3.scope";
  probe.own_visible = true;
  probe.mount_is_real_root = true;
  probe.root_controllers = {"cpu", "memory", "pids"};
  probe.own_controllers = {"memory", "pids"};
  probe.own_procs = {100, 101, 77};
  probe.foreign_procs = {77};  // the login shell
  probe.euid = 1000;
  return probe;
}

TEST(LimitsBackendChoice, ASessionScopeWithAShellIsNotUsable) {
  auto probe = unified_user_probe();
  probe.own_writable = false;
  auto choice = choose_backend(probe, "auto", false);
  EXPECT_EQ(choice.backend, Backend::watchdog);
  EXPECT_NE(choice.reason.find("not writable by uid 1000"), std::string::npos) << choice.reason;
  EXPECT_TRUE(choice.permission_problem);
  ASSERT_FALSE(choice.fixes.empty());
  // Without a user bus `systemd-run --user` cannot work either: the fix says how to get the bus.
  EXPECT_NE(choice.fixes[0].find("no systemd user bus"), std::string::npos) << choice.fixes[0];
  probe.systemd_user_session = true;  // a bus, but no user manager's cgroup seen
  choice = choose_backend(probe, "auto", false);
  EXPECT_EQ(choice.backend, Backend::watchdog);
  ASSERT_FALSE(choice.fixes.empty());
  EXPECT_NE(choice.fixes[0].find("systemd-run --user --scope -p Delegate=yes"), std::string::npos) << choice.fixes[0];
  probe.systemd_user_session = false;
  probe.own_writable = true;
  choice = choose_backend(probe, "auto", false);
  EXPECT_EQ(choice.backend, Backend::watchdog);
  EXPECT_NE(choice.reason.find("other process"), std::string::npos) << choice.reason;
  EXPECT_FALSE(choice.permission_problem);
}

TEST(LimitsBackendChoice, RootWithAShellInItsCgroupUsesTheRootCgroup) {
  auto probe = unified_user_probe();
  probe.euid = 0;
  probe.own_writable = true;
  probe.root_writable = true;
  auto choice = choose_backend(probe, "auto", false);
  EXPECT_EQ(choice.backend, Backend::cgroup_v2);
  EXPECT_EQ(choice.parent_dir, "");
  EXPECT_FALSE(choice.move_self_to_leaf);
}

TEST(LimitsBackendChoice, RootBesideAShellNestsTheRunInTheNearestFreeCgroupAboveNotAtTheTop) {
  FakeCgroupFs fake;  // an admin's /admin (memory.max) holding /admin/box: guardian and a shell
  fake.put("", "cgroup.controllers", fixture("cgroup.controllers.vm_root"));
  fake.put("", "cgroup.subtree_control", "cpu memory pids\n");
  fake.put("", "cgroup.procs", "1\n");
  fake.cgroup("admin");
  fake.put("admin", "cgroup.subtree_control", "cpu memory pids\n");
  fake.put("admin", "memory.max", "314572800\n");
  fake.cgroup("admin/box");
  fake.put("admin/box", "cgroup.procs", "100\n101\n77\n");
  fake.put("", "proc_self_cgroup", "0::/admin/box\n");
  auto probe = probe_cgroups(sources(fake, false));
  ASSERT_TRUE(probe.nest_dir.has_value());
  EXPECT_EQ(*probe.nest_dir, "admin");
  auto choice = choose_backend(probe, "auto", false);
  EXPECT_EQ(choice.backend, Backend::cgroup_v2);
  EXPECT_EQ(choice.parent_dir, "admin") << choice.reason;  // inside /admin's limits, not beside it
  EXPECT_TRUE(choice.move_self_to_leaf);
  EXPECT_EQ(choice.origin_dir, "admin/box");  // where guardian returns at the end
  EXPECT_EQ(choice.controllers, (std::vector<std::string>{"memory", "cpu", "pids"}));
  EXPECT_NE(choice.reason.find("nests the run beside it"), std::string::npos) << choice.reason;

  // Every level above busy too: the real root is exempt from the no-internal-processes rule.
  fake.put("admin", "cgroup.procs", "55\n");
  probe = probe_cgroups(sources(fake, false));
  ASSERT_TRUE(probe.nest_dir.has_value());
  EXPECT_EQ(*probe.nest_dir, "");
  choice = choose_backend(probe, "auto", false);
  EXPECT_EQ(choice.parent_dir, "");
  EXPECT_FALSE(choice.move_self_to_leaf);
}

TEST(LimitsBackendChoice, MissingCpuControllerIsNamedWithTheDropInFix) {
  auto probe = unified_user_probe();
  probe.own_writable = true;
  probe.foreign_procs.clear();
  probe.own_procs = {100};
  auto choice = choose_backend(probe, "auto", false);
  EXPECT_EQ(choice.backend, Backend::cgroup_v2);
  EXPECT_EQ(choice.missing_controllers, (std::vector<std::string>{"cpu"}));
  bool drop_in = false;
  for (const auto& fix : choice.fixes) drop_in = drop_in || fix.find("user@.service.d/delegate.conf") != std::string::npos;
  EXPECT_TRUE(drop_in);
}

TEST(LimitsBackendChoice, NoMemoryControllerMeansTheWatchdog) {
  auto probe = unified_user_probe();
  probe.own_writable = true;
  probe.foreign_procs.clear();
  probe.own_controllers = {"pids"};
  auto choice = choose_backend(probe, "auto", false);
  EXPECT_EQ(choice.backend, Backend::watchdog);
  EXPECT_NE(choice.reason.find("memory controller is not delegated"), std::string::npos) << choice.reason;
}

TEST(LimitsBackendChoice, ExplicitChoicesWin) {
  auto probe = unified_user_probe();
  EXPECT_EQ(choose_backend(probe, "auto", true).backend, Backend::none);
  EXPECT_EQ(choose_backend(probe, "auto", true).reason, "--no-limits");
  EXPECT_EQ(choose_backend(probe, "none", false).backend, Backend::none);
  EXPECT_EQ(choose_backend(probe, "watchdog", false).backend, Backend::watchdog);
  CgroupProbe nothing;
  EXPECT_EQ(choose_backend(nothing, "auto", false).backend, Backend::watchdog);
  nothing.layout = Layout::legacy;
  EXPECT_NE(choose_backend(nothing, "auto", false).reason.find("only cgroup v1"), std::string::npos);
}

TEST(LimitsBackendChoice, AContainerRootWithOnlyGuardianIsUsedThroughALeaf) {
  CgroupProbe probe;  // docker run --cgroupns=private … guardian run: guardian is PID 1 in "/"
  probe.layout = Layout::unified;
  probe.v2_mount = "/sys/fs/cgroup";
  probe.own_path = "/";
  probe.own_visible = true;
  probe.own_is_root = true;
  probe.mount_is_real_root = false;  // the namespace root has cgroup.events
  probe.root_controllers = probe.own_controllers = {"cpu", "memory", "pids"};
  probe.own_writable = probe.root_writable = true;
  probe.own_procs = {1, 7};
  auto choice = choose_backend(probe, "auto", false);
  EXPECT_EQ(choice.backend, Backend::cgroup_v2);
  EXPECT_EQ(choice.parent_dir, "");
  EXPECT_TRUE(choice.move_self_to_leaf);

  // Docker's default: the namespace's cgroupfs read-only. The watchdog, and the container's way out.
  probe.mount_read_only = true;
  probe.own_writable = probe.root_writable = false;
  choice = choose_backend(probe, "auto", false);
  EXPECT_EQ(choice.backend, Backend::watchdog);
  EXPECT_NE(choice.reason.find("mounted read-only"), std::string::npos) << choice.reason;
  ASSERT_FALSE(choice.fixes.empty());
  EXPECT_NE(choice.fixes[0].find("--privileged"), std::string::npos) << choice.fixes[0];
}

}  // namespace
}  // namespace guardian::limits

#include "guardian/limits/systemd_scope.hpp"

namespace guardian::limits {
namespace {

TEST(LimitsSystemdScope, AsksTheUserManagerForADelegatedScopeAroundGuardian) {
  auto argv = transient_scope_command("guardian-42.scope", {42, 43});
  std::string line;
  for (const auto& arg : argv) line += (line.empty() ? "" : " ") + arg;
  EXPECT_EQ(line,
            "busctl --user --quiet call org.freedesktop.systemd1 /org/freedesktop/systemd1 "
            "org.freedesktop.systemd1.Manager StartTransientUnit ssa(sv)a(sa(sv)) guardian-42.scope fail 2 "
            "PIDs au 2 42 43 Delegate b true 0");
}

TEST(LimitsSystemdScope, TheScopeGoesIntoTheCallersSliceAndIsPartOfTheCallersUnit) {
  auto argv = transient_scope_command("guardian-42.scope", {42}, {"app.slice", "foo.service"});
  std::string line;
  for (const auto& arg : argv) line += (line.empty() ? "" : " ") + arg;
  EXPECT_NE(line.find("guardian-42.scope fail 4 PIDs au 1 42 Delegate b true Slice s app.slice PartOf as 1 "
                      "foo.service 0"),
            std::string::npos)
      << line;
}

TEST(LimitsSystemdScope, PlacementIsTheInnermostSliceUnderTheManagerAndTheUnitInIt) {
  const std::string manager = "user.slice/user-1000.slice/user@1000.service";
  auto service = scope_placement(manager + "/app.slice/foo.service", manager);
  EXPECT_EQ(service.slice, "app.slice");
  EXPECT_EQ(service.part_of, "foo.service");
  auto nested = scope_placement(manager + "/app.slice/app-dev.slice/run-r1.scope", manager);
  EXPECT_EQ(nested.slice, "app-dev.slice");
  EXPECT_EQ(nested.part_of, "run-r1.scope");
  auto delegated_leaf = scope_placement(manager + "/app.slice/foo.service/sub", manager);
  EXPECT_EQ(delegated_leaf.slice, "app.slice");
  EXPECT_EQ(delegated_leaf.part_of, "foo.service");
  // A login session's scope is the manager's sibling: the manager's default slice, no PartOf.
  auto session = scope_placement("user.slice/user-1000.slice/session-3.scope", manager);
  EXPECT_EQ(session.slice, "");
  EXPECT_EQ(session.part_of, "");
}

// A non-root guardian under systemd: a user manager with `manager` controllers delegated.
CgroupProbe user_probe(std::string own, std::vector<std::string> own_controllers, bool own_writable,
                       std::vector<std::string> manager = {"cpu", "memory", "pids"}) {
  CgroupProbe probe;
  probe.layout = Layout::unified;
  probe.v2_mount = "/sys/fs/cgroup";
  probe.own_path = "/" + own;
  probe.own_visible = true;
  probe.mount_is_real_root = true;
  probe.own_controllers = std::move(own_controllers);
  probe.own_writable = own_writable;
  probe.own_procs = {100};
  probe.euid = 1000;
  probe.systemd_user_session = true;
  probe.systemd_manager_dir = "user.slice/user-1000.slice/user@1000.service";
  probe.systemd_manager_controllers = std::move(manager);
  return probe;
}

TEST(LimitsSystemdScope, OnlyOfferedToNonRootWithAUserSession) {
  auto probe = user_probe("user.slice/user-1000.slice/session-3.scope", {"memory", "pids"}, false);
  EXPECT_TRUE(choose_backend(probe, "auto", false).systemd_scope);
  probe.systemd_user_session = false;
  EXPECT_FALSE(choose_backend(probe, "auto", false).systemd_scope);
  probe.euid = 0;
  probe.systemd_user_session = true;
  EXPECT_FALSE(choose_backend(probe, "auto", false).systemd_scope);
}

TEST(LimitsSystemdScope, PredictsTheScopesControllersWhereTheOwnCgroupCannotHoldTheRun) {
  auto probe = user_probe("user.slice/user-1000.slice/user@1000.service/app.slice/foo.service", {"memory", "pids"},
                          false);
  auto choice = choose_backend(probe, "auto", false);
  EXPECT_EQ(choice.backend, Backend::cgroup_v2);
  EXPECT_TRUE(choice.systemd_scope);
  EXPECT_EQ(choice.parent_dir, "user.slice/user-1000.slice/user@1000.service/app.slice");
  EXPECT_EQ(choice.controllers, (std::vector<std::string>{"memory", "cpu", "pids"}));
  EXPECT_TRUE(choice.fixes.empty()) << choice.fixes[0];
  EXPECT_NE(choice.reason.find("part of foo.service"), std::string::npos) << choice.reason;
  // Once guardian asked (or failed to), the decision is made from its own cgroup alone.
  EXPECT_EQ(choose_backend(probe, "auto", false, false).backend, Backend::watchdog);
}

TEST(LimitsSystemdScope, AsksAlsoWhenOnlyAControllerIsMissing) {
  // `systemd-run --user --scope -p Delegate=yes` in an app.slice that enables only memory pids.
  auto probe = user_probe("user.slice/user-1000.slice/user@1000.service/app.slice/run-r1.scope", {"memory", "pids"},
                          true);
  auto choice = choose_backend(probe, "auto", false);
  EXPECT_TRUE(choice.systemd_scope);
  EXPECT_TRUE(choice.missing_controllers.empty());
  EXPECT_NE(choice.reason.find("lacks cpu"), std::string::npos) << choice.reason;
  // The manager lacks cpu too: a scope would not help; doctor names the drop-in, not a scope.
  probe.systemd_manager_controllers = {"memory", "pids"};
  choice = choose_backend(probe, "auto", false);
  EXPECT_FALSE(choice.systemd_scope);
  EXPECT_EQ(choice.backend, Backend::cgroup_v2);
  EXPECT_EQ(choice.missing_controllers, std::vector<std::string>{"cpu"});
  bool drop_in = false;
  for (const auto& fix : choice.fixes) {
    EXPECT_EQ(fix.find("systemd-run --user --scope"), std::string::npos) << fix;
    drop_in = drop_in || fix.find("user@.service.d/delegate.conf") != std::string::npos;
  }
  EXPECT_TRUE(drop_in);
}

TEST(LimitsSystemdScope, ADelegatedScopeWithEveryControllerIsUsedAsItIs) {
  auto probe = user_probe("user.slice/user-1000.slice/user@1000.service/app.slice/run-r1.scope",
                          {"cpu", "memory", "pids"}, true);
  auto choice = choose_backend(probe, "auto", false);
  EXPECT_FALSE(choice.systemd_scope);
  EXPECT_EQ(choice.backend, Backend::cgroup_v2);
  EXPECT_TRUE(choice.fixes.empty());
}

TEST(LimitsSystemdScope, WithoutAUserBusTheFixSaysHowToGetOne) {
  auto probe = user_probe("system.slice/cron.service", {"memory", "pids"}, false);
  probe.systemd_user_session = false;
  probe.systemd_manager_dir.clear();
  probe.systemd_manager_controllers.clear();
  auto choice = choose_backend(probe, "auto", false);
  EXPECT_EQ(choice.backend, Backend::watchdog);
  ASSERT_FALSE(choice.fixes.empty());
  EXPECT_NE(choice.fixes[0].find("no systemd user bus"), std::string::npos) << choice.fixes[0];
  EXPECT_NE(choice.fixes[0].find("loginctl enable-linger"), std::string::npos) << choice.fixes[0];
}

TEST(LimitsEnclosingCap, ExplicitCeilingsAreLoweredToTheCallersLimitsWithOneLine) {
  CgroupProbe caller;  // a user service with MemoryMax=100M and CPUQuota=50%
  caller.enclosing_memory_bytes = 100u << 20;
  caller.enclosing_memory_from = "/sys/fs/cgroup/app.slice/foo.service/memory.max";
  caller.enclosing_cpu_cores = 0.5;
  caller.enclosing_cpu_from = "/sys/fs/cgroup/app.slice/foo.service/cpu.max";
  Ceilings ceilings;
  ceilings.memory_max_bytes = 600u << 20;
  ceilings.memory_high_bytes = 540u << 20;
  ceilings.cpu_cores = 2;
  auto line = cap_to_enclosing(ceilings, caller);
  ASSERT_TRUE(line.has_value());
  EXPECT_EQ(*ceilings.memory_max_bytes, 100u << 20);
  EXPECT_EQ(*ceilings.memory_high_bytes, 90u << 20);
  EXPECT_EQ(*ceilings.cpu_cores, 0.5);
  EXPECT_NE(line->find("memory 600 MiB → 100 MiB"), std::string::npos) << *line;
  EXPECT_NE(line->find("foo.service/cpu.max"), std::string::npos) << *line;
  // Ceilings already inside the enclosing limits are left alone, silently.
  EXPECT_FALSE(cap_to_enclosing(ceilings, caller).has_value());
}

}  // namespace
}  // namespace guardian::limits
