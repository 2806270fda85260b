// The exit status guardian returns: the command's own code, 128+N for a death by
// signal N, and the report's account of it.
#include <csignal>

#include "harness.hpp"

namespace guardian::testing {
namespace {

class ExitCodeTest : public GuardianTest, public ::testing::WithParamInterface<int> {};

TEST_P(ExitCodeTest, PassesTheCommandsExitCodeThrough) {
  const int code = GetParam();
  const RunResult result = run(run_target_reported({}, {"exit", std::to_string(code)}));
  ASSERT_EQ(result.exit_code, code) << result.describe();
  const Json report_json = report();
  ASSERT_TRUE(report_json.is_object());
  EXPECT_EQ(report_json.value("exit_code", -1), code);
  EXPECT_EQ(report_json.value("outcome", ""), "exited");
  EXPECT_TRUE(report_json.contains("signal") && report_json["signal"].is_null()) << report_json.dump(2);
  EXPECT_EQ(report_json.value("timed_out", true), false);
  EXPECT_EQ(report_json.value("escalated_to_kill", true), false);
}

INSTANTIATE_TEST_SUITE_P(Codes, ExitCodeTest, ::testing::Values(0, 1, 42, 255));

struct SignalCase {
  int number;
  const char* name;
};

// Names the case in test listings (gtest would otherwise dump its raw bytes).
void PrintTo(const SignalCase& value, std::ostream* out) { *out << value.name; }

class SignalDeathTest : public GuardianTest, public ::testing::WithParamInterface<SignalCase> {};

TEST_P(SignalDeathTest, ExitsWith128PlusTheSignalAndNamesIt) {
  const SignalCase signal_case = GetParam();
  const RunResult result = run(run_target_reported({}, {"signal", std::to_string(signal_case.number)}));
  ASSERT_EQ(result.exit_code, 128 + signal_case.number) << result.describe();
  const Json report_json = report();
  ASSERT_TRUE(report_json.is_object());
  EXPECT_EQ(report_json.value("exit_code", -1), 128 + signal_case.number);
  EXPECT_EQ(report_json.value("outcome", ""), "signaled");
  EXPECT_EQ(report_json.value("signal", Json()).dump(), Json(signal_case.name).dump());
  EXPECT_EQ(report_json.value("timed_out", true), false);
}

// Every signal whose default action kills a process, plus SIGKILL (137, what the
// kernel's OOM killer and the memory ceiling produce).
INSTANTIATE_TEST_SUITE_P(
    Signals, SignalDeathTest,
    ::testing::Values(SignalCase{SIGHUP, "SIGHUP"}, SignalCase{SIGINT, "SIGINT"},
                      SignalCase{SIGQUIT, "SIGQUIT"}, SignalCase{SIGILL, "SIGILL"},
                      SignalCase{SIGTRAP, "SIGTRAP"}, SignalCase{SIGABRT, "SIGABRT"},
                      SignalCase{SIGBUS, "SIGBUS"}, SignalCase{SIGFPE, "SIGFPE"},
                      SignalCase{SIGKILL, "SIGKILL"}, SignalCase{SIGUSR1, "SIGUSR1"},
                      SignalCase{SIGSEGV, "SIGSEGV"}, SignalCase{SIGUSR2, "SIGUSR2"},
                      SignalCase{SIGPIPE, "SIGPIPE"}, SignalCase{SIGALRM, "SIGALRM"},
                      SignalCase{SIGTERM, "SIGTERM"}, SignalCase{SIGXCPU, "SIGXCPU"},
                      SignalCase{SIGXFSZ, "SIGXFSZ"}, SignalCase{SIGVTALRM, "SIGVTALRM"},
                      SignalCase{SIGPROF, "SIGPROF"}, SignalCase{SIGSYS, "SIGSYS"}),
    [](const ::testing::TestParamInfo<SignalCase>& param_info) { return std::string(param_info.param.name); });

TEST_F(GuardianTest, CommandArgumentsReachTheCommandVerbatim) {
  // Everything after "--" belongs to the command, even what looks like guardian's flags.
  const std::vector<std::string> args{"a b", "", "--timeout", "1ms", "--quiet", "ünïcode", "$HOME"};
  std::vector<std::string> target_args{"print-args"};
  target_args.insert(target_args.end(), args.begin(), args.end());
  const RunResult result = run(run_target_reported({}, target_args));
  ASSERT_EQ(result.exit_code, 0) << result.describe();
  std::string expected;
  for (const auto& arg : args) expected += arg + "\n";
  EXPECT_EQ(result.out, expected);
  const Json report_json = report();
  std::vector<std::string> expected_command{target_bin()};
  expected_command.insert(expected_command.end(), target_args.begin(), target_args.end());
  EXPECT_EQ(report_json.value("command", Json::array()), Json(expected_command));
}

}  // namespace
}  // namespace guardian::testing
