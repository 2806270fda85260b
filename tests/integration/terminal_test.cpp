// Interactive use: on a terminal the command's group owns the foreground, so a
// Ctrl-C typed by the user reaches the command directly.
#include <map>

#include "pty_session.hpp"

namespace guardian::testing {
namespace {

TEST_F(GuardianTest, CommandGroupOwnsTheTerminalForeground) {
  PtySession session(options(run_target({}, {"print-pgid"})));
  const RunResult result = session.wait(15s);
  ASSERT_EQ(result.exit_code, 0) << result.describe();
  std::map<std::string, std::string> pairs;
  for (const auto& line : result.out_lines()) {
    const auto equals = line.find('=');
    if (equals != std::string::npos) pairs[line.substr(0, equals)] = line.substr(equals + 1);
  }
  ASSERT_TRUE(pairs.count("pgid") && pairs.count("tty_foreground_pgid")) << result.out;
  EXPECT_EQ(pairs.at("tty_foreground_pgid"), pairs.at("pgid")) << result.out;
  EXPECT_NE(pairs.at("pgid"), std::to_string(session.pid())) << "the command must not share guardian's group";
}

TEST_F(GuardianTest, CtrlCTypedOnTheTerminalReachesTheCommand) {
  PtySession session(options(run_target({}, {"wait-signal", "20"})));
  ASSERT_TRUE(session.wait_for("ready", 10s));
  session.type("\x03");
  const RunResult result = session.wait(15s);
  EXPECT_NE(result.out.find("got SIGINT"), std::string::npos) << result.describe();
  EXPECT_EQ(result.exit_code, 100 + 2) << result.describe();
}

TEST_F(GuardianTest, GuardianStartedInTheBackgroundLeavesTheTerminalToTheShell) {
  // An interactive shell (job control on: "set -m") starts guardian as a background job;
  // the shell keeps the terminal, so guardian must not hand it to the command.
  const std::string script = "set -m; '" + guardian_bin() + "' run --quiet -- '" + target_bin() +
                             "' print-pgid & wait $!; echo guardian_exit=$?; echo shell_pgid=$$";
  SpawnOptions spawn = options({"-c", script});
  spawn.program = "/bin/sh";
  PtySession session(spawn);
  const RunResult result = session.wait(15s);
  ASSERT_EQ(result.exit_code, 0) << result.describe();
  std::map<std::string, std::string> pairs;
  for (const auto& line : result.out_lines()) {
    const auto equals = line.find('=');
    if (equals != std::string::npos) pairs[line.substr(0, equals)] = line.substr(equals + 1);
  }
  ASSERT_TRUE(pairs.count("pgid") && pairs.count("tty_foreground_pgid") && pairs.count("shell_pgid"))
      << result.describe();
  EXPECT_EQ(pairs.at("guardian_exit"), "0") << result.describe();
  EXPECT_EQ(pairs.at("tty_foreground_pgid"), pairs.at("shell_pgid")) << result.describe();
  EXPECT_NE(pairs.at("tty_foreground_pgid"), pairs.at("pgid")) << result.describe();
}

}  // namespace
}  // namespace guardian::testing
