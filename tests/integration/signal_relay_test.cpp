// Signals sent to guardian reach the command's process group; a second SIGINT or
// SIGTERM during the grace period escalates to SIGKILL at once.
#include <csignal>
#include <thread>

#include "harness.hpp"

namespace guardian::testing {
namespace {

struct RelayCase {
  int number;
  const char* name;
};

// Names the case in test listings (gtest would otherwise dump its raw bytes).
void PrintTo(const RelayCase& value, std::ostream* out) { *out << value.name; }

class SignalRelayTest : public GuardianTest, public ::testing::WithParamInterface<RelayCase> {};

TEST_P(SignalRelayTest, SignalSentToGuardianReachesTheCommand) {
  const RelayCase relay = GetParam();
  auto process = start(run_target_reported({}, {"wait-signal", "20"}));
  ASSERT_TRUE(process->wait_for_stdout("ready", 10s)) << process->out();
  process->send_signal(relay.number);
  const RunResult result = process->wait(15s);
  EXPECT_NE(result.out.find(std::string("got ") + relay.name), std::string::npos) << result.describe();
  // wait-signal exits 100+N after catching signal N: guardian passes that through.
  EXPECT_EQ(result.exit_code, 100 + relay.number) << result.describe();
}

INSTANTIATE_TEST_SUITE_P(Signals, SignalRelayTest,
                         ::testing::Values(RelayCase{SIGINT, "SIGINT"}, RelayCase{SIGTERM, "SIGTERM"},
                                           RelayCase{SIGHUP, "SIGHUP"}, RelayCase{SIGQUIT, "SIGQUIT"},
                                           RelayCase{SIGUSR1, "SIGUSR1"}, RelayCase{SIGUSR2, "SIGUSR2"}),
                         [](const ::testing::TestParamInfo<RelayCase>& param_info) {
                           return std::string(param_info.param.name);
                         });

class SecondSignalTest : public GuardianTest, public ::testing::WithParamInterface<RelayCase> {};

TEST_P(SecondSignalTest, EscalatesToSigkillWithoutWaitingForTheGrace) {
  const RelayCase relay = GetParam();
  // The command ignores both SIGTERM and SIGINT, so only SIGKILL can end it; the 30 s
  // grace is far longer than the harness deadline below, so ending at all proves the
  // escalation happened at the second signal.
  auto process =
      start(run_target_reported({"--kill-after", "30s"}, {"ignore-term", "60", "INT"}));
  ASSERT_TRUE(process->wait_for_stdout("ready", 10s)) << process->out();
  process->send_signal(relay.number);
  // Not a timing assertion: only gives guardian the chance to handle the first
  // signal on its own before the second arrives.
  std::this_thread::sleep_for(300ms);
  process->send_signal(relay.number);
  const RunResult result = process->wait(10s);
  ASSERT_FALSE(result.deadline_hit);
  EXPECT_EQ(result.exit_code, 128 + SIGKILL) << result.describe();
  const Json report_json = report();
  ASSERT_TRUE(report_json.is_object());
  EXPECT_EQ(report_json.value("escalated_to_kill", false), true) << report_json.dump(2);
  EXPECT_EQ(report_json.value("signal", Json()).dump(), Json("SIGKILL").dump());
}

INSTANTIATE_TEST_SUITE_P(Signals, SecondSignalTest,
                         ::testing::Values(RelayCase{SIGINT, "SIGINT"}, RelayCase{SIGTERM, "SIGTERM"}),
                         [](const ::testing::TestParamInfo<RelayCase>& param_info) {
                           return std::string(param_info.param.name);
                         });

TEST_F(GuardianTest, SigtermToGuardianStopsACommandThatIgnoresItAfterTheGrace) {
  auto process = start(run_target_reported({"--kill-after", "300ms"}, {"ignore-term", "60"}));
  ASSERT_TRUE(process->wait_for_stdout("ready", 10s)) << process->out();
  process->send_signal(SIGTERM);
  const RunResult result = process->wait(15s);
  EXPECT_EQ(result.exit_code, 128 + SIGKILL) << result.describe();
  const Json report_json = report();
  ASSERT_TRUE(report_json.is_object());
  EXPECT_EQ(report_json.value("escalated_to_kill", false), true) << report_json.dump(2);
}

}  // namespace
}  // namespace guardian::testing
