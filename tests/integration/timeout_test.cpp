// --timeout and the stop sequence: SIGTERM (+SIGCONT) to the whole tree, the
// --kill-after grace, then SIGKILL; exit 124.
#include "harness.hpp"

namespace guardian::testing {
namespace {

bool mentions_timeout(const std::string& text) {
  std::string lower = text;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower.find("timed out") != std::string::npos;
}

TEST_F(GuardianTest, TimeoutStopsTheCommandAndExits124) {
  const RunResult result = run(run_target_reported({"--timeout", "300ms"}, {"sleep", "30"}));
  ASSERT_EQ(result.exit_code, 124) << result.describe();
  EXPECT_TRUE(mentions_timeout(result.err)) << "stderr should say the run timed out:\n" << result.err;
  const Json report_json = report();
  ASSERT_TRUE(report_json.is_object());
  EXPECT_EQ(report_json.value("exit_code", -1), 124);
  EXPECT_EQ(report_json.value("outcome", ""), "timed_out");
  EXPECT_EQ(report_json.value("timed_out", false), true);
  // sleep dies of the polite SIGTERM: no escalation was needed.
  EXPECT_EQ(report_json.value("escalated_to_kill", true), false);
  EXPECT_EQ(report_json.value("signal", Json()).dump(), Json("SIGTERM").dump());
}

TEST_F(GuardianTest, TimeoutEscalatesToSigkillWhenSigtermIsIgnored) {
  const RunResult result = run(
      run_target_reported({"--timeout", "300ms", "--kill-after", "300ms"}, {"ignore-term", "30"}));
  ASSERT_EQ(result.exit_code, 124) << result.describe();
  const Json report_json = report();
  ASSERT_TRUE(report_json.is_object());
  EXPECT_EQ(report_json.value("outcome", ""), "timed_out");
  EXPECT_EQ(report_json.value("timed_out", false), true);
  EXPECT_EQ(report_json.value("escalated_to_kill", false), true);
  EXPECT_EQ(report_json.value("signal", Json()).dump(), Json("SIGKILL").dump());
}

TEST_F(GuardianTest, TimeoutEndsAStoppedCommandWithoutWaitingForTheGrace) {
  // A stopped process cannot act on SIGTERM until it gets SIGCONT. With the default
  // 10 s grace, ending without escalation proves guardian sent SIGCONT with SIGTERM.
  const RunResult result = run(run_target_reported({"--timeout", "300ms"}, {"stop-self", "30"}), 30s);
  ASSERT_EQ(result.exit_code, 124) << result.describe();
  const Json report_json = report();
  ASSERT_TRUE(report_json.is_object());
  EXPECT_EQ(report_json.value("timed_out", false), true);
  EXPECT_EQ(report_json.value("escalated_to_kill", true), false) << report_json.dump(2);
}

TEST_F(GuardianTest, TimeoutStopsTheWholeProcessTree) {
  auto process = start(run_target_reported({"--timeout", "1500ms"}, {"fork-tree", "2", "3", "30"}));
  ASSERT_TRUE(process->wait_for_stdout("ready", 10s)) << process->out();
  EXPECT_NE(process->out().find("tree 13"), std::string::npos) << process->out();
  // Sanity check of the harness itself: the tree is visible by its marker.
  EXPECT_GE(processes_with_marker(marker_).size(), 13u);
  const RunResult result = process->wait(20s);
  ASSERT_EQ(result.exit_code, 124) << result.describe();
  const Json report_json = report();
  ASSERT_TRUE(report_json.is_object());
  // guardian had to find all 13 processes to stop them.
  EXPECT_GE(report_json["resources"].value("processes_observed", 0), 13) << report_json.dump(2);
  // Every descendant got the polite SIGTERM, not only the root.
  EXPECT_EQ(report_json.value("escalated_to_kill", true), false) << report_json.dump(2);
}

TEST_F(GuardianTest, TimeoutKillsEscapeesThatLeftTheSession) {
  const RunResult result = run(run_target_reported({"--timeout", "500ms"}, {"setsid-escape", "30"}));
  ASSERT_EQ(result.exit_code, 124) << result.describe();
  EXPECT_NE(result.out.find("escapee "), std::string::npos) << result.describe();
  // The escapee, outside the command's group and session, got SIGTERM too.
  const Json report_json = report();
  ASSERT_TRUE(report_json.is_object());
  EXPECT_EQ(report_json.value("escalated_to_kill", true), false) << report_json.dump(2);
}

TEST_F(GuardianTest, CommandFinishingBeforeTheTimeoutKeepsItsExitCode) {
  const RunResult result = run(run_target_reported({"--timeout", "20s"}, {"exit", "3"}));
  ASSERT_EQ(result.exit_code, 3) << result.describe();
  const Json report_json = report();
  EXPECT_EQ(report_json.value("timed_out", true), false);
  EXPECT_EQ(report_json.value("outcome", ""), "exited");
}

class DurationFormTest : public GuardianTest, public ::testing::WithParamInterface<const char*> {};

TEST_P(DurationFormTest, IsAcceptedByTimeoutAndKillAfter) {
  const RunResult result =
      run(run_target({"--timeout", GetParam(), "--kill-after", GetParam()}, {"exit", "0"}));
  EXPECT_EQ(result.exit_code, 0) << result.describe();
}

INSTANTIATE_TEST_SUITE_P(Forms, DurationFormTest,
                         ::testing::Values("500ms", "2s", "1m30s", "15m", "1h"),
                         [](const ::testing::TestParamInfo<const char*>& param_info) {
                           return std::string("d") + param_info.param;
                         });

}  // namespace
}  // namespace guardian::testing
