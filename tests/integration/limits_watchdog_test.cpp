// Resource ceilings on the host. This development machine's cgroups are hybrid, so guardian
// must say loudly that cgroup v2 ceilings are unavailable and enforce them with the /proc
// watchdog: a memory-ceiling kill (named, exit 137) and a CPU duty cycle within ±15 %.
// The watchdog tests force --limits-backend watchdog so they test it on any host; the
// fallback test checks that `guardian run` does what `guardian doctor` predicts.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "harness.hpp"

namespace guardian::testing {
namespace {

constexpr std::uint64_t MiB = 1024 * 1024;

TEST_F(GuardianTest, WatchdogKillsATreeAboveItsMemoryCeilingAndNamesIt) {
  const RunResult result = run(
      run_target_reported({"--limits-backend", "watchdog", "--memory", "64M"}, {"alloc", "2048", "20"}), 30s);
  EXPECT_EQ(result.exit_code, 137) << result.describe();
  EXPECT_NE(result.err.find("memory ceiling"), std::string::npos) << result.err;
  EXPECT_EQ(result.out.find("allocated 2048 MB"), std::string::npos) << "the allocation must be stopped early";
  const Json report_json = report();
  ASSERT_TRUE(report_json.is_object());
  EXPECT_EQ(report_json.value("killed_by", ""), "memory_ceiling") << report_json.dump(2);
  EXPECT_EQ(report_json.value("exit_code", -1), 137);
  EXPECT_EQ(report_json["enforcement"].value("backend", ""), "watchdog");
  ASSERT_TRUE(report_json.contains("ceiling_kill")) << report_json.dump(2);
  EXPECT_EQ(report_json["ceiling_kill"].value("ceiling", 0ull), 64 * MiB);
  EXPECT_GT(report_json["ceiling_kill"].value("peak", 0ull), 64 * MiB);
  EXPECT_GE(report_json["resources"].value("peak_memory_bytes", 0ull), 64 * MiB);
  EXPECT_EQ(report_json["alerts"]["by_type"]["MEMORY_CEILING_KILL"].value("emitted", 0), 1)
      << report_json["alerts"].dump(2);
  bool logged = false;
  for (const auto& event : read_json_lines(only_run_dir(dir_) / "events.jsonl"))
    logged = logged || event.value("event", "") == "memory.ceiling_kill";
  EXPECT_TRUE(logged) << "events.jsonl should record the ceiling kill";
}

TEST_F(GuardianTest, WatchdogDutyCyclesATwoThreadSpinnerToItsCpuCeiling) {
  const RunResult result =
      run(run_target_reported({"--limits-backend", "watchdog", "--cpu", "0.1"}, {"spin", "2", "6"}), 40s);
  ASSERT_EQ(result.exit_code, 0) << result.describe();
  const Json report_json = report();
  ASSERT_TRUE(report_json.is_object());
  // `spin 2 6` spins for 6 s of wall time; two threads would use up to 12 CPU-seconds
  // unheld. The ceiling is low (0.1 cores) so that even on a loaded, shared 2-core machine
  // the spinner wants more than it: the test is about holding, not about getting CPU.
  const double cores = static_cast<double>(report_json["resources"].value("cpu_time_ms", 0)) / 6000.0;
  EXPECT_NEAR(cores, 0.1, 0.1 * 0.15) << report_json.dump(2);
  const Json& cpu = report_json["enforcement"]["cpu"];
  EXPECT_GT(cpu.value("nr_throttled", 0), 5) << cpu.dump();
  EXPECT_GT(cpu.value("throttled_usec", 0ull), 2000000ull) << cpu.dump();
}

TEST_F(GuardianTest, WatchdogLeavesATreeBelowItsCeilingsAlone) {
  const RunResult result = run(
      run_target_reported({"--limits-backend", "watchdog", "--cpu", "2", "--memory", "512M"}, {"spin", "1", "1"}));
  ASSERT_EQ(result.exit_code, 0) << result.describe();
  const Json report_json = report();
  ASSERT_TRUE(report_json.is_object());
  EXPECT_FALSE(report_json.contains("ceiling_kill"));
  EXPECT_EQ(report_json["enforcement"]["cpu"].value("nr_throttled", -1), 0) << report_json["enforcement"].dump();
}

TEST_F(GuardianTest, RunUsesTheBackendDoctorPredictsAndSaysSoLoudly) {
  const RunResult doctor = run({"doctor", "--json"});
  ASSERT_EQ(doctor.exit_code, 0) << doctor.describe();
  const Json diagnosis = Json::parse(doctor.out, nullptr, false);
  ASSERT_TRUE(diagnosis.is_object()) << doctor.out;
  const std::string predicted = diagnosis["run_backend"].value("backend", "");
  const std::string reason = diagnosis["run_backend"].value("reason", "");

  const RunResult result = run(run_target_reported({}, {"exit", "0"}));
  ASSERT_EQ(result.exit_code, 0) << result.describe();
  const Json report_json = report();
  ASSERT_TRUE(report_json.is_object());
  EXPECT_EQ(report_json["enforcement"].value("backend", ""), predicted) << report_json["enforcement"].dump(2);
  if (predicted == "watchdog") {
    // Never silently enforce less: one short stderr line (the start line already says
    // "limits: watchdog"), and the why in the event log (and guardian doctor).
    auto fallback_lines = [](const RunResult& r) {
      int lines = 0;
      for (const auto& line : r.err_lines())
        if (line.find("by the /proc watchdog") != std::string::npos) ++lines;
      return lines;
    };
    EXPECT_EQ(fallback_lines(result), 1) << result.err;
    for (const auto& line : result.err_lines()) {
      if (line.find("by the /proc watchdog") != std::string::npos) {
        EXPECT_LE(line.size(), 120u) << line;
      }
    }
    EXPECT_NE(result.err.find("guardian doctor"), std::string::npos) << result.err;
    EXPECT_EQ(report_json["enforcement"].value("reason", ""), reason);
    bool logged = false;
    for (const auto& event : read_json_lines(only_run_dir(dir_) / "events.jsonl"))
      logged = logged || (event.value("event", "") == "limits.fallback" &&
                          event.value("message", "").find(reason) != std::string::npos);
    EXPECT_TRUE(logged) << "the fallback and its reason belong in events.jsonl";
    // --quiet keeps stderr for errors, and a fallback is not one: it stays in the report.
    const RunResult quiet = run(run_target({"--quiet"}, {"exit", "0"}));
    ASSERT_EQ(quiet.exit_code, 0) << quiet.describe();
    EXPECT_EQ(fallback_lines(quiet), 0) << quiet.err;
  }
}

TEST_F(GuardianTest, DoctorExplainsTheLayoutTheBackendAndTheFix) {
  const RunResult result = run({"doctor"});
  ASSERT_EQ(result.exit_code, 0) << result.describe();
  EXPECT_NE(result.out.find("cgroup layout:"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("'guardian run' uses:"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("mode dev ceilings:"), std::string::npos) << result.out;
  const RunResult json = run({"doctor", "--json", "--mode", "prod", "--memory", "1G"});
  ASSERT_EQ(json.exit_code, 0) << json.describe();
  const Json diagnosis = Json::parse(json.out, nullptr, false);
  ASSERT_TRUE(diagnosis.is_object()) << json.out;
  EXPECT_EQ(diagnosis.value("mode", ""), "prod");
  EXPECT_EQ(diagnosis["ceilings"].value("memory_max_bytes", 0ull), 1024 * MiB);
  EXPECT_TRUE(diagnosis["controllers"].contains("memory"));
  const bool full = diagnosis.value("full_enforcement", true);
  EXPECT_EQ(full, diagnosis["fixes"].empty()) << "without full enforcement doctor must say what to do";
}

TEST_F(GuardianTest, NoLimitsEnforcesNothingAndSaysSo) {
  const RunResult result = run(run_target_reported({"--no-limits"}, {"exit", "3"}));
  ASSERT_EQ(result.exit_code, 3) << result.describe();
  EXPECT_NE(result.err.find("limits: none (--no-limits)"), std::string::npos) << result.err;
  EXPECT_EQ(report()["enforcement"].value("backend", ""), "none");
}

}  // namespace
}  // namespace guardian::testing

namespace guardian::testing {
namespace {

// The watchdog's pids ceiling is RLIMIT_NPROC, which the kernel applies to non-root users
// only: run guardian as an unprivileged uid (setpriv, util-linux) with a fork-tree of 85
// processes. Not nobody: other tests run processes as nobody at the same time (ctest -j), and
// RLIMIT_NPROC counts every task of the uid, so one of theirs ending mid-run gave this tree a
// 21st slot. uid 64999 is this test's alone.
TEST_F(GuardianTest, WatchdogHoldsAForkBombAtThePidsCeilingForANonRootUser) {
  ASSERT_EQ(::geteuid(), 0u) << "this test drops to uid 64999 and needs to start as root";
  fs::permissions(dir_, fs::perms::all);
  const std::string report_path = (dir_ / "nobody.json").string();
  const std::string command = "cd " + dir_.string() + " && setpriv --reuid=64999 --regid=64999 --clear-groups " +
                              guardian_bin() + " run --quiet --limits-backend watchdog --pids 20 --report " +
                              report_path + " -- " + target_bin() + " fork-tree 3 4 1 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string out;
  char buffer[4096];
  std::size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) out.append(buffer, n);
  const int status = ::pclose(pipe);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << out;
  // (no <regex>: GCC 12 warns falsely inside it under the sanitizer build)
  const auto at = out.find("tree ");
  ASSERT_NE(at, std::string::npos) << out;
  EXPECT_LE(std::atoi(out.c_str() + at + 5), 20) << out;
  EXPECT_NE(out.find("fork: Resource temporarily unavailable"), std::string::npos) << out;
  const Json report_json = read_json_file(report_path);
  ASSERT_TRUE(report_json.is_object());
  EXPECT_EQ(report_json["enforcement"]["pids"].value("method", ""), "RLIMIT_NPROC") << report_json["enforcement"].dump(2);
}

TEST_F(GuardianTest, AsRootThePidsCeilingOfTheWatchdogIsReportedAsNotEnforced) {
  const RunResult result = run(run_target_reported({"--limits-backend", "watchdog", "--pids", "20"}, {"exit", "0"}));
  ASSERT_EQ(result.exit_code, 0) << result.describe();
  EXPECT_NE(result.err.find("pids not enforced as root"), std::string::npos) << result.err;
  EXPECT_EQ(report()["enforcement"]["pids"].value("method", ""), "none");
}

}  // namespace
}  // namespace guardian::testing
