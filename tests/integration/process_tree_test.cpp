// The command runs in its own process group, and nothing it started outlives the
// run: not its group, not processes that double-forked or called setsid(), not
// even when guardian itself is killed with SIGKILL (whether its sentinel is the installed
// guardian-sentinel executable or, for a guardian copied alone, a fork of guardian).
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "harness.hpp"

namespace guardian::testing {
namespace {

// "key=value" lines of print-pgid.
std::map<std::string, std::string> parse_pairs(const std::string& out) {
  std::map<std::string, std::string> pairs;
  std::istringstream stream(out);
  for (std::string line; std::getline(stream, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const auto equals = line.find('=');
    if (equals != std::string::npos) pairs[line.substr(0, equals)] = line.substr(equals + 1);
  }
  return pairs;
}

// The pid printed after "escapee " by setsid-escape and double-fork.
pid_t escapee_pid(const std::string& out) {
  const auto at = out.find("escapee ");
  if (at == std::string::npos) return -1;
  return static_cast<pid_t>(std::stol(out.substr(at + 8)));
}

bool alive(pid_t pid) {
  const std::string stat = read_text_file("/proc/" + std::to_string(pid) + "/stat");
  const auto close_paren = stat.rfind(')');
  if (close_paren == std::string::npos || close_paren + 2 >= stat.size()) return false;
  const char state = stat[close_paren + 2];
  return state != 'Z' && state != 'X';
}

TEST_F(GuardianTest, CommandRunsInItsOwnProcessGroup) {
  const RunResult result = run(run_target({}, {"print-pgid"}));
  ASSERT_EQ(result.exit_code, 0) << result.describe();
  const auto pairs = parse_pairs(result.out);
  EXPECT_EQ(pairs.count("pgid_equals_pid") ? pairs.at("pgid_equals_pid") : "", "yes") << result.out;
  // guardian was started in this test's process group; the command must not be in it.
  ASSERT_TRUE(pairs.count("pgid")) << result.out;
  EXPECT_NE(std::stol(pairs.at("pgid")), static_cast<long>(getpgrp())) << result.out;
}

TEST_F(GuardianTest, DescendantsLeftByTheCommandAreStoppedWhenItExits) {
  // The root exits after 0.3 s; its 12 descendants would sleep for 30 s.
  const RunResult result = run(run_target({}, {"fork-tree", "2", "3", "30", "0.3"}));
  ASSERT_EQ(result.exit_code, 0) << result.describe();
  EXPECT_NE(result.out.find("tree 13"), std::string::npos) << result.describe();
  EXPECT_FALSE(result.pipes_left_open) << result.describe();
}

class EscapeTest : public GuardianTest, public ::testing::WithParamInterface<const char*> {};

TEST_P(EscapeTest, EscapeeIsStoppedWhenTheCommandExits) {
  // The command exits 0 after 0.3 s; the escapee would sleep for 30 more seconds.
  const RunResult result = run(run_target({}, {GetParam(), "0.3"}));
  ASSERT_EQ(result.exit_code, 0) << result.describe();
  const pid_t escapee = escapee_pid(result.out);
  ASSERT_GT(escapee, 0) << result.describe();
  EXPECT_FALSE(alive(escapee)) << "escapee " << escapee << " survived the run";
}

INSTANTIATE_TEST_SUITE_P(Modes, EscapeTest, ::testing::Values("setsid-escape", "double-fork"),
                         [](const ::testing::TestParamInfo<const char*>& param_info) {
                           return param_info.param == std::string("setsid-escape") ? std::string("Setsid")
                                                                              : std::string("DoubleFork");
                         });

// The executables of `pid`'s children, by file name, sorted.
std::vector<std::string> children_executables(pid_t pid) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& task : fs::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    std::ifstream children(task.path() / "children");
    for (pid_t child; children >> child;)
      names.push_back(fs::read_symlink("/proc/" + std::to_string(child) + "/exe", ec).filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// Whichever process does the sentinel's duty: the installed guardian-sentinel executable
// (issue 17: started with posix_spawn, nothing of guardian copied), or — for a guardian
// binary copied somewhere alone — a fork of guardian.
class SentinelTest : public GuardianTest, public ::testing::WithParamInterface<bool> {};

TEST_P(SentinelTest, KillingGuardianWithSigkillTakesTheWholeRunDown) {
  const bool installed = GetParam();
  // A process tree in the command's group and an escapee in its own session.
  const std::string target = target_bin();
  const std::string script = "'" + target + "' fork-tree 2 2 30 & '" + target + "' setsid-escape 30 & wait";
  SpawnOptions spawn = options({"run", "--", "/bin/sh", "-c", script});
  if (!installed) {  // bin/guardian with no libexec/guardian/guardian-sentinel beside it
    fs::create_directories(dir_ / "alone" / "bin");
    const fs::path copy = dir_ / "alone" / "bin" / "guardian";
    std::error_code ec;
    fs::create_hard_link(guardian_bin(), copy, ec);
    if (ec) fs::copy_file(guardian_bin(), copy);
    spawn.program = copy.string();
  }
  auto process = std::make_unique<GuardianProcess>(spawn);
  ASSERT_TRUE(process->wait_for_stdout("tree 7", 10s)) << process->out();
  ASSERT_TRUE(process->wait_for_stdout("escapee ", 10s)) << process->out();
  const pid_t escapee = escapee_pid(process->out());
  ASSERT_TRUE(alive(escapee));
  // sh + 7 tree processes + setsid-escape + escapee, all visible by the marker.
  ASSERT_GE(processes_with_marker(marker_).size(), 10u);
  const auto children = children_executables(process->pid());
  const bool exec_sentinel = std::count(children.begin(), children.end(), "guardian-sentinel") == 1;
  EXPECT_EQ(exec_sentinel, installed) << ::testing::PrintToString(children);
  if (!installed) {
    EXPECT_EQ(std::count(children.begin(), children.end(), "guardian"), 1) << "the forked sentinel";
  }

  process->send_signal(SIGKILL);
  const RunResult result = process->wait(5s);
  EXPECT_EQ(result.term_signal, SIGKILL) << result.describe();
  // Bounded wait: whatever kills the run after guardian's death may take a moment.
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!processes_with_marker(marker_).empty() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(50ms);
  expect_no_orphans(marker_, 0ms);
  EXPECT_FALSE(alive(escapee)) << "the setsid escapee " << escapee << " survived guardian's death";
}

INSTANTIATE_TEST_SUITE_P(Sentinel, SentinelTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& param_info) {
                           return param_info.param ? std::string("Installed") : std::string("ForkedForAGuardianCopiedAlone");
                         });

}  // namespace
}  // namespace guardian::testing
