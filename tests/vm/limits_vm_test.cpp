// The cgroup v2 backend on a real kernel: boots the bare cgroup v2 VM (bare/bare-vm) once,
// runs limits_scenarios.sh there (the real guardian binary on guardian-target), and checks
// each scenario's exit code, output, report and the cgroups left behind.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "vm_runner.hpp"
#include "vm_sections.hpp"

namespace {

using Json = nlohmann::json;
constexpr std::uint64_t MiB = 1024 * 1024;

using guardian::testing::Section;

class LimitsVm : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto vm = guardian::testing::run_scenario_in_vm(SCENARIOS, 900);
    ASSERT_NE(vm.status, -1) << "bare-vm could not be started";
    raw_ = std::move(vm.output);
    vm_status_ = vm.status;
    sections_ = guardian::testing::parse_sections(raw_);
  }

  static const Section& section(const std::string& name) {
    static const Section empty;
    auto it = sections_.find(name);
    if (it == sections_.end()) {
      ADD_FAILURE() << "the VM did not run scenario '" << name << "' (bare-vm status " << vm_status_
                    << "); its output:\n"
                    << raw_;
      return empty;
    }
    return it->second;
  }

  static std::string raw_;
  static int vm_status_;
  static std::map<std::string, Section> sections_;
};

std::string LimitsVm::raw_;
int LimitsVm::vm_status_ = -1;
std::map<std::string, Section> LimitsVm::sections_;

// <regex> is avoided: GCC 12 warns falsely inside it under the sanitizer build (-Werror).

// The number after "tree " in fork-tree's output, or -1.
int tree_size(const std::string& out) {
  auto at = out.find("tree ");
  if (at == std::string::npos) return -1;
  return std::atoi(out.c_str() + at + 5);
}

// Whether `line` is "0::<prefix>guardian-<digits>/tree/main".
bool is_unit_cgroup_line(const std::string& line, const std::string& prefix) {
  const std::string head = "0::" + prefix + "guardian-", tail = "/tree/main";
  if (line.size() <= head.size() + tail.size() || line.rfind(head, 0) != 0 ||
      line.compare(line.size() - tail.size(), tail.size(), tail) != 0)
    return false;
  const std::string digits = line.substr(head.size(), line.size() - head.size() - tail.size());
  return digits.find_first_not_of("0123456789") == std::string::npos;
}

std::string describe(const Section& s) {
  return "exit " + s.trimmed("exit") + "\n--- stderr:\n" + s.part("stderr") + "--- stdout:\n" + s.part("stdout") +
         "--- report:\n" + s.part("report");
}

void expect_memory_ceiling_kill(const Section& s) {
  EXPECT_EQ(s.exit_code(), 137) << describe(s);
  Json report = s.report();
  ASSERT_TRUE(report.is_object()) << "guardian must survive and write its report\n" << describe(s);
  EXPECT_EQ(report["killed_by"], "memory_ceiling") << describe(s);
  EXPECT_EQ(report["enforcement"]["backend"], "cgroup_v2") << describe(s);
  ASSERT_TRUE(report.contains("ceiling_kill")) << describe(s);
  EXPECT_EQ(report["ceiling_kill"]["ceiling"], 64 * MiB);
  EXPECT_GE(report["ceiling_kill"]["oom_kills"].get<int>(), 1);
  // memory.peak may pass memory.max by the kernel's per-CPU charge batches (a few hundred KiB).
  EXPECT_LE(report["ceiling_kill"]["peak"].get<std::uint64_t>(), 66 * MiB);
  EXPECT_GE(report["ceiling_kill"]["peak"].get<std::uint64_t>(), 60 * MiB);
  EXPECT_GE(report["enforcement"]["memory"]["events"]["oom_kill"].get<int>(), 1);
  EXPECT_EQ(report["alerts"]["by_type"]["MEMORY_CEILING_KILL"]["emitted"], 1) << report["alerts"].dump();
  EXPECT_NE(s.part("stderr").find("memory ceiling"), std::string::npos) << describe(s);
  EXPECT_EQ(s.part("stdout").find("allocated 256 MB"), std::string::npos) << "the allocation must not complete";
}

void expect_cpu_held_at_half_a_core(const Section& s) {
  EXPECT_EQ(s.exit_code(), 0) << describe(s);
  Json report = s.report();
  ASSERT_TRUE(report.is_object()) << describe(s);
  ASSERT_TRUE(report["enforcement"].contains("cpu")) << describe(s);
  double usage_s = report["enforcement"]["cpu"]["usage_usec"].get<double>() / 1e6;
  double cores = usage_s / 8.0;  // `spin 2 8` spins for 8 s of wall time
  EXPECT_NEAR(cores, 0.5, 0.05) << "usage " << usage_s << " s over 8 s\n" << describe(s);
  EXPECT_GT(report["enforcement"]["cpu"]["nr_throttled"].get<int>(), 0);
  EXPECT_GT(report["enforcement"]["cpu"]["throttled_usec"].get<std::uint64_t>(), 0u);
}

TEST_F(LimitsVm, AllocatingFourTimesTheCeilingIsKilledAndNamedWhileGuardianSurvives) {
  expect_memory_ceiling_kill(section("memory"));
}

// The hang of issue 12: a program whose file pages live on a real block device, leaking
// 10 MB every 50 ms under --memory 64M, must end in a named kill within seconds.
void expect_slow_leak_killed(const Section& s) {
  EXPECT_EQ(s.exit_code(), 137) << describe(s);
  EXPECT_LE(std::stoi("0" + s.trimmed("wall_seconds")), 30) << "the tree hung at memory.high\n" << describe(s);
  Json report = s.report();
  ASSERT_TRUE(report.is_object()) << describe(s);
  EXPECT_EQ(report["killed_by"], "memory_ceiling") << describe(s);
  ASSERT_TRUE(report.contains("ceiling_kill")) << describe(s);
  EXPECT_EQ(report["ceiling_kill"]["ceiling"], 64 * MiB);
  EXPECT_TRUE(report["ceiling_kill"].contains("throttled_ms")) << report["ceiling_kill"].dump();
  EXPECT_EQ(report["alerts"]["by_type"]["MEMORY_CEILING_KILL"]["emitted"], 1) << report["alerts"].dump();
}

TEST_F(LimitsVm, ASlowLeakOnADiskBackedFilesystemIsKilledAtTheCeilingNotThrottledForever) {
  const auto& s = section("memory_disk");
  expect_slow_leak_killed(s);
  Json report = s.report();
  ASSERT_TRUE(report.is_object());
  EXPECT_GE(report["ceiling_kill"]["oom_kills"].get<int>(), 1) << describe(s);
  EXPECT_EQ(report["enforcement"]["ceilings"]["memory_high_bytes"], 64 * MiB) << "no swap: high = max";
}

TEST_F(LimitsVm, ATreeThrottledAtMemoryHighIsKilledAfterTheStallWindowAndNamed) {
  const auto& s = section("memory_high_stall");
  expect_slow_leak_killed(s);
  Json report = s.report();
  ASSERT_TRUE(report.is_object());
  EXPECT_GE(report["ceiling_kill"]["throttled_ms"].get<int>(), 2000) << describe(s);
  EXPECT_FALSE(report["ceiling_kill"]["kernel_killed"].get<bool>()) << describe(s);
  // The counters of the node that carries memory.high, where the throttling is counted.
  EXPECT_GT(report["enforcement"]["memory"]["events"]["high"].get<int>(), 0) << report["enforcement"].dump(2);
  EXPECT_GE(report["enforcement"]["memory"]["throttled_ms"].get<int>(), 2000) << report["enforcement"].dump(2);
  EXPECT_NE(s.part("stderr").find("guardian killed it"), std::string::npos) << describe(s);
}

TEST_F(LimitsVm, CpuMaxHoldsATwoThreadSpinnerAtItsCeiling) {
  const auto& s = section("cpu");
  EXPECT_EQ(s.trimmed("vm_cpus"), "2") << "two threads need two CPUs to want more than the ceiling";
  expect_cpu_held_at_half_a_core(s);
}

TEST_F(LimitsVm, AForkBombStopsAtPidsMax) {
  const auto& s = section("forkbomb");
  EXPECT_EQ(s.exit_code(), 0) << describe(s);
  int tree = tree_size(s.part("stdout"));
  ASSERT_GT(tree, 0) << describe(s);
  EXPECT_LE(tree, 16) << describe(s);
  EXPECT_GE(tree, 8) << describe(s);
  EXPECT_NE(s.part("stderr").find("fork: Resource temporarily unavailable"), std::string::npos) << describe(s);
  Json report = s.report();
  ASSERT_TRUE(report.is_object()) << describe(s);
  EXPECT_GT(report["enforcement"]["pids"]["refused_forks"].get<int>(), 0);
  EXPECT_NE(s.part("stderr").find("pids ceiling"), std::string::npos) << describe(s);
}

TEST_F(LimitsVm, AForkBombThatKeepsForkingAtPidsMaxIsEndedAndNamed) {
  const auto& s = section("forkbomb_endless");
  EXPECT_EQ(s.exit_code(), 137) << describe(s);
  EXPECT_LE(std::stoi("0" + s.trimmed("wall_seconds")), 60) << describe(s);
  Json report = s.report();
  ASSERT_TRUE(report.is_object()) << describe(s);
  EXPECT_EQ(report["killed_by"], "pids_ceiling") << describe(s);
  EXPECT_EQ(report["ceiling_kill"]["kind"], "pids_ceiling") << describe(s);
  EXPECT_EQ(report["ceiling_kill"]["ceiling"], 64);
  EXPECT_NE(s.part("stderr").find("guardian killed it"), std::string::npos) << describe(s);
}

TEST_F(LimitsVm, ASetsidDoubleForkedDaemonIsGoneAfterTheRun) {
  const auto& s = section("daemon");
  EXPECT_EQ(s.exit_code(), 0) << describe(s);
  EXPECT_NE(s.part("stdout").find("escapee "), std::string::npos) << describe(s);
  EXPECT_EQ(s.trimmed("escapee_alive"), "no");
  Json report = s.report();
  ASSERT_TRUE(report.is_object());
  EXPECT_GE(report["resources"]["leftover_processes_killed"].get<int>(), 1) << describe(s);
}

TEST_F(LimitsVm, ThePayloadIsInItsCgroupFromItsFirstInstruction) {
  const auto& s = section("first_instruction");
  EXPECT_EQ(s.exit_code(), 0) << describe(s);
  EXPECT_TRUE(is_unit_cgroup_line(s.trimmed("stdout"), "/")) << describe(s);
}

TEST_F(LimitsVm, FreezeKillThawEndsATreeThatIgnoresSigterm) {
  const auto& s = section("freeze_kill");
  EXPECT_EQ(s.exit_code(), 124) << describe(s);
  Json report = s.report();
  ASSERT_TRUE(report.is_object()) << describe(s);
  EXPECT_EQ(report["enforcement"]["kill_method"], "freeze+kill+thaw") << describe(s);
  EXPECT_EQ(report["killed_by"], "timeout");
}

TEST_F(LimitsVm, WhenGuardianIsSigkilledTheSentinelKillsItsCgroupAndRemovesIt) {
  const auto& s = section("guardian_sigkill");
  EXPECT_FALSE(s.trimmed("pids_before").empty()) << "the command never ran\n" << s.part("pids_before");
  EXPECT_NE(s.part("children_exe").find("guardian-sentinel"), std::string::npos) << s.part("children_exe");
  EXPECT_EQ(s.trimmed("escapee_alive"), "no");
  EXPECT_EQ(s.trimmed("leftover_cgroups"), "") << "the sentinel removes the run's cgroups";
  // What a guardian killed together with its sentinel left, the next run removes.
  const auto& next = section("after_sigkill");
  EXPECT_EQ(next.exit_code(), 0) << describe(next);
  EXPECT_EQ(next.trimmed("leftover_cgroups"), "");
  Json report = next.report();
  ASSERT_TRUE(report.is_object());
  bool noted = false;
  for (const auto& note : report["enforcement"]["notes"]) noted = noted || note.get<std::string>().find("removed 1") == 0;
  EXPECT_TRUE(noted) << report["enforcement"].dump(2);
}

TEST_F(LimitsVm, ASigkilledGuardianGivesItsDelegatedCgroupBackAsItFoundIt) {
  const auto& s = section("sigkill_box");
  EXPECT_NE(s.part("box_before").find("/box/guardian-"), std::string::npos) << s.part("box_before");
  EXPECT_NE(s.part("box_before").find("memory"), std::string::npos) << "guardian enabled controllers in box\n"
                                                                   << s.part("box_before");
  EXPECT_EQ(s.trimmed("box_children"), "");
  EXPECT_EQ(s.trimmed("box_subtree_control"), "") << "what guardian enabled in box is disabled again";
  EXPECT_EQ(s.trimmed("box_takes_a_process"), "yes");
  EXPECT_EQ(s.trimmed("escapee_alive"), "no");
}

TEST_F(LimitsVm, NoCgroupDirectoryIsLeftAfterAnyRun) {
  for (const char* name : {"memory", "memory_disk", "memory_high_stall", "cpu", "forkbomb", "forkbomb_endless", "daemon", "first_instruction", "freeze_kill",
                           "guardian_sigkill", "after_sigkill", "box_cap", "nest_shared", "escape_cgroup",
                           "container_rw", "container_ro", "delegated_memory", "delegated_cpu", "delegated_beside_shell",
                           "final"})
    EXPECT_EQ(section(name).trimmed("leftover_cgroups"), "") << name;
}

// A ceiling-kill under a cgroup limit guardian was started inside: lowered to `cap`, in one line.
void expect_killed_at_the_enclosing_cap(const Section& s, std::uint64_t cap) {
  EXPECT_EQ(s.exit_code(), 137) << describe(s);
  Json report = s.report();
  ASSERT_TRUE(report.is_object()) << describe(s);
  EXPECT_EQ(report["killed_by"], "memory_ceiling") << describe(s);
  EXPECT_EQ(report["enforcement"]["backend"], "cgroup_v2") << describe(s);
  EXPECT_EQ(report["enforcement"]["ceilings"]["memory_max_bytes"], cap) << report["enforcement"].dump(2);
  EXPECT_NE(s.part("stderr").find("ceilings lowered to the limits guardian was started inside: memory 600 MiB"),
            std::string::npos)
      << describe(s);
  EXPECT_EQ(s.part("stderr").find("/proc watchdog"), std::string::npos) << "the backend is cgroup v2\n" << describe(s);
  EXPECT_EQ(s.part("stdout").find("allocated 192 MB"), std::string::npos) << describe(s);
}

TEST_F(LimitsVm, ACeilingAboveTheCgroupGuardianStartedInIsLoweredToItAndTheRunStaysInside) {
  const auto& s = section("box_cap");
  expect_killed_at_the_enclosing_cap(s, 128 * MiB);
  EXPECT_NE(s.part("stderr").find("(/sys/fs/cgroup/box/guardian-"), std::string::npos) << describe(s);
  EXPECT_EQ(s.trimmed("box_after"), "") << "guardian removed its cgroups and left box";
}

TEST_F(LimitsVm, RootBesideAShellNestsTheRunInsideTheEnclosingCgroupAndMovesOnlyItself) {
  const auto& s = section("nest_shared");
  expect_killed_at_the_enclosing_cap(s, 128 * MiB);
  EXPECT_TRUE(is_unit_cgroup_line(s.part("stdout").substr(0, s.part("stdout").find('\n')), "/admin/"))
      << "the run nests inside /admin, not at the top\n"
      << describe(s);
  EXPECT_EQ(s.trimmed("shell_cgroup"), "0::/admin/box") << "the shell beside guardian is never moved";
  EXPECT_EQ(s.trimmed("admin_children"), "/sys/fs/cgroup/admin/box");
}

TEST_F(LimitsVm, AProcessThatWroteItselfOutOfTheRunsCgroupEndsWithTheRun) {
  const auto& s = section("escape_cgroup");
  EXPECT_EQ(s.exit_code(), 0) << describe(s);
  EXPECT_NE(s.part("stdout").find("escapee "), std::string::npos) << describe(s);
  EXPECT_EQ(s.trimmed("escapee_alive"), "no") << describe(s);
  EXPECT_LT(std::stoi(s.trimmed("wall_seconds")), 60) << "it was ended, not waited for\n" << describe(s);
}

TEST_F(LimitsVm, InAContainersCgroupNamespaceARwCgroupfsGivesKernelCeilingsAndDoctorAgrees) {
  const auto& s = section("container_rw");
  EXPECT_EQ(s.trimmed("cgroup_in_namespace"), "0::/") << describe(s);
  expect_memory_ceiling_kill(s);
  Json doctor = Json::parse(s.part("doctor"), nullptr, false);
  ASSERT_TRUE(doctor.is_object()) << s.part("doctor");
  EXPECT_EQ(doctor["run_backend"]["backend"], "cgroup_v2") << doctor["run_backend"].dump(2);
  EXPECT_EQ(s.trimmed("container_children"), "") << "guardian moved back and removed its cgroups";
}

TEST_F(LimitsVm, InAContainerWithAReadOnlyCgroupfsTheWatchdogHoldsAndDoctorNamesTheOptions) {
  const auto& s = section("container_ro");
  Json report = s.report();
  ASSERT_TRUE(report.is_object()) << describe(s);
  EXPECT_EQ(report["enforcement"]["backend"], "watchdog") << describe(s);
  EXPECT_EQ(report["killed_by"], "memory_ceiling") << describe(s);
  Json doctor = Json::parse(s.part("doctor"), nullptr, false);
  ASSERT_TRUE(doctor.is_object()) << s.part("doctor");
  EXPECT_EQ(doctor["run_backend"]["backend"], "watchdog") << doctor["run_backend"].dump(2);
  const std::string fixes = doctor["run_backend"]["fixes"].dump();
  EXPECT_NE(fixes.find(":rw"), std::string::npos) << fixes;
  EXPECT_EQ(s.trimmed("container_children"), "") << "nothing is created in a read-only cgroupfs";
}

TEST_F(LimitsVm, ANonRootUserRunsInADelegatedSubtree) {
  expect_memory_ceiling_kill(section("delegated_memory"));
  const auto& first = section("delegated_first_instruction");
  EXPECT_TRUE(is_unit_cgroup_line(first.trimmed("stdout"), "/delegated/job/"))
      << describe(first);
  Json report = first.report();
  ASSERT_TRUE(report.is_object()) << describe(first);
  bool moved = false;
  for (const auto& note : report["enforcement"]["notes"])
    moved = moved || note.get<std::string>().find("moved guardian into") == 0;
  EXPECT_TRUE(moved) << report["enforcement"].dump(2);
  expect_cpu_held_at_half_a_core(section("delegated_cpu"));
  // guardian moved itself back and removed everything it created.
  EXPECT_EQ(section("delegated_cpu").trimmed("job_children"), "");
}

TEST_F(LimitsVm, ANonRootUserBesideTheirShellNestsTheRunInTheirDelegatedCgroupAndMovesOnlyItself) {
  const auto& s = section("delegated_beside_shell");
  expect_memory_ceiling_kill(s);
  EXPECT_TRUE(is_unit_cgroup_line(s.part("stdout").substr(0, s.part("stdout").find('\n')), "/delegated/"))
      << describe(s);
  EXPECT_EQ(s.trimmed("shell_cgroup"), "0::/delegated/shell") << "the shell is never moved";
  EXPECT_EQ(s.trimmed("delegated_children"), "/sys/fs/cgroup/delegated/job\n/sys/fs/cgroup/delegated/shell")
      << "guardian removed its cgroups";
}

TEST_F(LimitsVm, ANonDelegatedCgroupIsAPermissionErrorAndTheWatchdogEnforces) {
  const auto& s = section("not_delegated");
  EXPECT_EQ(s.exit_code(), 0) << describe(s);
  // One short line on stderr (the session's limits fallback); the why is in the report.
  EXPECT_NE(s.part("stderr").find("ceilings by the /proc watchdog"), std::string::npos) << describe(s);
  Json report = s.report();
  ASSERT_TRUE(report.is_object()) << describe(s);
  EXPECT_EQ(report["enforcement"]["backend"], "watchdog");
  EXPECT_NE(report["enforcement"]["reason"].get<std::string>().find("is not writable by uid 1000"), std::string::npos)
      << report["enforcement"].dump(2);
  EXPECT_EQ(report["alerts"]["by_type"]["PERMISSION_ERROR"]["emitted"], 1) << report["alerts"].dump(2);
  EXPECT_EQ(s.trimmed("plain_children"), "") << "nothing may be created where guardian may not write";
}

}  // namespace
