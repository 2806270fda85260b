// What guardian does when it cannot start the command (126, 127) or is used wrongly
// (125): one "guardian: " line on stderr, and nothing started.
#include <sys/stat.h>

#include <fstream>

#include "harness.hpp"

namespace guardian::testing {
namespace {

// The lines of stderr that start with "guardian: ".
std::vector<std::string> guardian_lines(const RunResult& result) {
  std::vector<std::string> lines;
  for (const auto& line : result.err_lines())
    if (line.starts_with("guardian: ")) lines.push_back(line);
  return lines;
}

void expect_one_error_line_mentioning(const RunResult& result, const std::string& needle) {
  const auto lines = result.err_lines();
  ASSERT_EQ(lines.size(), 1u) << "with --quiet stderr must hold exactly the error line\n" << result.describe();
  EXPECT_TRUE(lines.front().starts_with("guardian: ")) << lines.front();
  EXPECT_NE(lines.front().find(needle), std::string::npos) << lines.front();
}

TEST_F(GuardianTest, CommandNotFoundOnPathExits127) {
  const std::string name = "guardian-it-no-such-command";
  const RunResult result = run({"run", "--quiet", "--report", report_copy_path().string(), "--", name});
  ASSERT_EQ(result.exit_code, 127) << result.describe();
  expect_one_error_line_mentioning(result, name);
  const Json report_json = report();
  ASSERT_TRUE(report_json.is_object());
  EXPECT_EQ(report_json.value("outcome", ""), "not_found");
  EXPECT_EQ(report_json.value("exit_code", -1), 127);
}

TEST_F(GuardianTest, CommandPathThatDoesNotExistExits127) {
  const std::string path = (dir_ / "missing" / "tool").string();
  const RunResult result = run({"run", "--quiet", "--", path});
  ASSERT_EQ(result.exit_code, 127) << result.describe();
  expect_one_error_line_mentioning(result, path);
}

TEST_F(GuardianTest, FileWithoutExecutePermissionExits126) {
  const fs::path script = dir_ / "script.sh";
  std::ofstream(script) << "#!/bin/sh\necho started\n";
  fs::permissions(script, fs::perms::owner_read | fs::perms::owner_write);
  const RunResult result =
      run({"run", "--quiet", "--report", report_copy_path().string(), "--", script.string()});
  ASSERT_EQ(result.exit_code, 126) << result.describe();
  EXPECT_EQ(result.out.find("started"), std::string::npos);
  expect_one_error_line_mentioning(result, script.string());
  const Json report_json = report();
  ASSERT_TRUE(report_json.is_object());
  EXPECT_EQ(report_json.value("outcome", ""), "not_executable");
  EXPECT_EQ(report_json.value("exit_code", -1), 126);
}

TEST_F(GuardianTest, DirectoryAsCommandExits126) {
  const RunResult result = run({"run", "--quiet", "--", dir_.string()});
  ASSERT_EQ(result.exit_code, 126) << result.describe();
  expect_one_error_line_mentioning(result, dir_.string());
}

struct UsageCase {
  const char* name;
  std::vector<std::string> flags;  // between "run" and "--"
  bool with_command;               // append "-- guardian-target print-args started"
};

// Names the case in test listings (gtest would otherwise dump its raw bytes).
void PrintTo(const UsageCase& value, std::ostream* out) { *out << value.name; }

class BadUsageTest : public GuardianTest, public ::testing::WithParamInterface<UsageCase> {};

TEST_P(BadUsageTest, Exits125WithOneErrorLineAndStartsNothing) {
  const UsageCase usage = GetParam();
  std::vector<std::string> args{"run"};
  for (const auto& flag : usage.flags) args.push_back(flag == "@MISSING@" ? (dir_ / "missing.toml").string() : flag);
  if (usage.with_command) {
    args.insert(args.end(), {"--", target_bin(), "print-args", "started"});
  }
  const RunResult result = run(args);
  ASSERT_EQ(result.exit_code, 125) << result.describe();
  EXPECT_EQ(result.out.find("started"), std::string::npos) << "the command ran:\n" << result.describe();
  const auto lines = result.err_lines();
  ASSERT_EQ(lines.size(), 1u) << "expected exactly one error line\n" << result.describe();
  EXPECT_TRUE(lines.front().starts_with("guardian: ")) << lines.front();
  EXPECT_FALSE(fs::exists(dir_ / ".guardian")) << "a run directory was created for a run that never started";
}

INSTANTIATE_TEST_SUITE_P(
    Cases, BadUsageTest,
    ::testing::Values(UsageCase{"NoCommand", {}, false}, UsageCase{"EmptyCommand", {"--"}, false},
                      UsageCase{"TimeoutNotADuration", {"--timeout", "abc"}, true},
                      UsageCase{"TimeoutUnknownUnit", {"--timeout", "1x"}, true},
                      UsageCase{"TimeoutNegative", {"--timeout", "-1s"}, true},
                      UsageCase{"KillAfterNotADuration", {"--kill-after", "soon"}, true},
                      UsageCase{"UnknownMode", {"--mode", "turbo"}, true},
                      UsageCase{"UnknownFlag", {"--no-such-flag"}, true},
                      UsageCase{"MissingConfigFile", {"--config", "@MISSING@"}, true}),
    [](const ::testing::TestParamInfo<UsageCase>& param_info) { return std::string(param_info.param.name); });

// A kernel older than 5.3 answers pidfd_open with ENOSYS; Docker's default seccomp profile
// before 20.10 answered EPERM. guardian signals only through pidfds: it must refuse to start,
// with one line that says what to change, not abort halfway (it died of an uncaught
// exception in Boost.Process, leaving a run directory, after starting the sentinel).
class NoPidfdTest : public GuardianTest, public ::testing::WithParamInterface<const char*> {};

TEST_P(NoPidfdTest, RunRefusesToStartAndSaysWhatToChange) {
  SpawnOptions spawn = options({"deny-syscall", "pidfd_open", GetParam(), guardian_bin(), "run", "--quiet", "--",
                                target_bin(), "print-args", "started"});
  spawn.program = target_bin();
  GuardianProcess process(spawn);
  const RunResult result = process.wait(20s);
  ASSERT_EQ(result.exit_code, 125) << result.describe();
  EXPECT_EQ(result.out.find("started"), std::string::npos) << "the command ran:\n" << result.describe();
  expect_one_error_line_mentioning(result, "pidfd_open");
  EXPECT_NE(result.err.find("Linux 5.3"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("Nothing was started"), std::string::npos) << result.err;
  EXPECT_FALSE(fs::exists(dir_ / ".guardian")) << "a run directory was created for a run that never started";
}

TEST_P(NoPidfdTest, ServeRefusesToStartLikewise) {
  SpawnOptions spawn = options({"deny-syscall", "pidfd_open", GetParam(), guardian_bin(), "serve", "--quiet",
                                "--health", "http://127.0.0.1:1/health", "--", target_bin(), "serve-http", "0"});
  spawn.program = target_bin();
  GuardianProcess process(spawn);
  const RunResult result = process.wait(20s);
  ASSERT_EQ(result.exit_code, 125) << result.describe();
  expect_one_error_line_mentioning(result, "pidfd_open");
  EXPECT_FALSE(fs::exists(dir_ / ".guardian")) << "a run directory was created for a serve that never started";
}

INSTANTIATE_TEST_SUITE_P(Refusals, NoPidfdTest, ::testing::Values("EPERM", "ENOSYS"));

TEST_F(GuardianTest, UnknownGuardianSubcommandExits125) {
  const RunResult result = run({"frobnicate"});
  EXPECT_EQ(result.exit_code, 125) << result.describe();
  EXPECT_FALSE(guardian_lines(result).empty()) << result.describe();
}

}  // namespace
}  // namespace guardian::testing
