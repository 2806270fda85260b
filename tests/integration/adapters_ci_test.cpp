// CI protection end to end under a simulated CI environment (variables and a temp summary
// file): mode test by default with its origin shown, GitHub workflow annotations and the job
// summary, GitHub's real cancellation sequence (SIGINT, 7.5 s, SIGTERM, 2.5 s, SIGKILL) on a
// tree that ignores both signals, GitLab's collapsible section.
#include <signal.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <thread>

#include "harness.hpp"

namespace guardian::testing {
namespace {

const fs::path kSuite = fs::path(GUARDIAN_SOURCE_DIR) / "examples" / "pytest-suite";
constexpr std::string_view kNever = "\x01never printed\x01";  // wait_for_stdout as a bounded pump

std::size_t occurrences(const std::string& text, std::string_view needle) {
  std::size_t count = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + needle.size())) ++count;
  return count;
}

// Whether the child `pid` has exited (a zombie not reaped yet, or already reaped).
bool has_ended(pid_t pid) {
  siginfo_t info{};
  if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) != 0) return errno == ECHILD;
  return info.si_pid == pid;
}

// The line of `config show` output for exactly `key`, or "".
std::string line_for(const RunResult& result, const std::string& key) {
  for (const auto& line : result.out_lines())
    if (line.starts_with(key + " ")) return line;
  return "";
}

class AdaptersCi : public GuardianTest {
 protected:
  RunResult config_show(std::vector<std::pair<std::string, std::string>> env, std::vector<std::string> flags = {}) {
    std::vector<std::string> args{"config", "show"};
    args.insert(args.end(), flags.begin(), flags.end());
    SpawnOptions spawn = options(args);
    spawn.env.insert(spawn.env.end(), env.begin(), env.end());
    GuardianProcess process(spawn);
    return process.wait(10s);
  }
};

TEST_F(AdaptersCi, ModeDefaultsToTestUnderCiWithItsOrigin) {
  auto github = config_show({{"GITHUB_ACTIONS", "true"}, {"CI", "true"}});
  ASSERT_EQ(github.exit_code, 0) << github.describe();
  EXPECT_NE(line_for(github, "mode").find("test"), std::string::npos) << github.out;
  EXPECT_NE(line_for(github, "mode").find("CI detected: GITHUB_ACTIONS"), std::string::npos) << github.out;

  auto gitlab = config_show({{"GITLAB_CI", "true"}});
  EXPECT_NE(line_for(gitlab, "mode").find("CI detected: GITLAB_CI"), std::string::npos) << gitlab.out;
  auto generic = config_show({{"CI", "true"}});
  EXPECT_NE(line_for(generic, "mode").find("CI detected: CI"), std::string::npos) << generic.out;

  // The user's choice wins: a flag, a variable, a file; and --no-ci turns detection off.
  auto flag = config_show({{"CI", "true"}}, {"--mode", "dev"});
  EXPECT_NE(line_for(flag, "mode").find("dev"), std::string::npos) << flag.out;
  EXPECT_NE(line_for(flag, "mode").find("flag --mode"), std::string::npos) << flag.out;
  auto variable = config_show({{"CI", "true"}, {"GUARDIAN_MODE", "prod"}});
  EXPECT_NE(line_for(variable, "mode").find("env GUARDIAN_MODE"), std::string::npos) << variable.out;
  std::ofstream(dir_ / "guardian.toml") << "mode = \"dev\"\n";
  auto file = config_show({{"CI", "true"}});
  EXPECT_NE(line_for(file, "mode").find("guardian.toml:1"), std::string::npos) << file.out;
  fs::remove(dir_ / "guardian.toml");
  auto off = config_show({{"CI", "true"}}, {"--no-ci"});
  EXPECT_NE(line_for(off, "mode").find("default"), std::string::npos) << off.out;
  auto none = config_show({});
  EXPECT_NE(line_for(none, "mode").find("dev"), std::string::npos) << none.out;
}

// Our own CI runs the suite with CI=true: the harness keeps it away from the guardian under
// test, so every test that expects mode dev by default still gets it.
TEST_F(AdaptersCi, HarnessKeepsTheTestProcessCiVariablesAway) {
  // Set for this test only; the values the test process had are put back afterwards.
  std::vector<std::pair<std::string, std::optional<std::string>>> saved;
  for (const char* name : {"CI", "GITHUB_ACTIONS"}) {
    const char* value = std::getenv(name);
    saved.emplace_back(name, value ? std::optional<std::string>(value) : std::nullopt);
    ::setenv(name, "true", 1);
  }
  auto result = config_show({});
  for (const auto& [name, value] : saved) {
    if (value) ::setenv(name.c_str(), value->c_str(), 1);
    else ::unsetenv(name.c_str());
  }
  EXPECT_NE(line_for(result, "mode").find("default"), std::string::npos) << result.out;
}

TEST_F(AdaptersCi, GithubAnnotationsAndJobSummary) {
  const fs::path summary = dir_ / "step_summary.md";
  std::ofstream(summary) << "previous step's summary\n";
  SpawnOptions spawn = options({"run", "--report", report_copy_path().string(), "--junit", "missing.xml", "--",
                                "/usr/bin/python3", "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", kSuite.string(),
                                (kSuite / "test_basic.py").string()});
  spawn.env.emplace_back("GITHUB_ACTIONS", "true");
  spawn.env.emplace_back("CI", "true");
  spawn.env.emplace_back("GITHUB_STEP_SUMMARY", summary.string());
  GuardianProcess process(spawn);
  auto result = process.wait(60s);
  ASSERT_FALSE(result.deadline_hit) << result.describe();
  EXPECT_EQ(result.exit_code, 1) << result.describe();
  auto report_json = report();
  EXPECT_EQ(report_json["mode"], "test");
  EXPECT_EQ(report_json["ci"]["provider"], "github") << report_json.dump(2);

  // One annotation per alert, each on its own line, ':' and ',' escaped in the title and
  // line breaks in the message.
  std::vector<std::string> annotations;
  for (const auto& line : result.out_lines())
    if (line.starts_with("::")) annotations.push_back(line);
  ASSERT_EQ(annotations.size(), 12u) << result.out;  // 11 TEST_FAILED, the missing --junit file
  EXPECT_TRUE(annotations.back().starts_with("::warning title=guardian%3A JUnit::")) << annotations.back();
  EXPECT_NE(annotations.back().find("missing.xml: no such file"), std::string::npos) << annotations.back();
  // file= and line= put the annotation on the failing line in the pull request's diff.
  const std::string first = "::warning file=test_basic.py,line=15,title=guardian%3A TEST_FAILED%3A test failed%3A "
                            "test_basic.py%3A%3Atest_fails::";
  bool found = false;
  for (const auto& line : annotations) {
    if (!line.starts_with(first)) continue;
    found = true;
    EXPECT_NE(line.find("arithmetic is broken"), std::string::npos) << line;
  }
  EXPECT_TRUE(found) << result.out;
  bool escaped_newline = false;
  for (const auto& line : annotations) escaped_newline = escaped_newline || line.find("%0A") != std::string::npos;
  EXPECT_TRUE(escaped_newline) << "pytest's assertion text has line breaks: " << result.out;

  const std::string markdown = read_text_file(summary);
  EXPECT_TRUE(markdown.starts_with("previous step's summary\n")) << markdown;  // appended, not replaced
  EXPECT_NE(markdown.find("❌ guardian:"), std::string::npos) << markdown;
  EXPECT_NE(markdown.find("exited with 1"), std::string::npos) << markdown;
  EXPECT_NE(markdown.find("| Peak memory |"), std::string::npos) << markdown;
  EXPECT_NE(markdown.find(" ceiling ("), std::string::npos) << markdown;
  EXPECT_NE(markdown.find("| Mode · backend | test · " + report_json["enforcement"].value("backend", "?")),
            std::string::npos) << markdown;
  EXPECT_NE(markdown.find("| Alerts | 11 (TEST_FAILED 11) |"), std::string::npos) << markdown;
  EXPECT_NE(markdown.find("`test_basic.py::test_fails`"), std::string::npos) << markdown;
  EXPECT_NE(markdown.find("Slowest tests"), std::string::npos) << markdown;
  EXPECT_NE(markdown.find("`test_basic.py::test_slow_passes`"), std::string::npos) << markdown;
  EXPECT_NE(markdown.find("> ⚠️ JUnit: "), std::string::npos) << markdown;
}

// GitHub cancels a job with SIGINT, SIGTERM 7.5 s later, SIGKILL 2.5 s after that. guardian
// shortens its own grace under GitHub Actions so that a tree ignoring both signals is killed
// and the report written inside the window, without needing the SIGTERM.
TEST_F(AdaptersCi, GithubCancellationSequenceLeavesNoProcessAndACompleteReport) {
  const fs::path summary = dir_ / "step_summary.md";
  const std::string target = target_bin();
  // sh and two children, all ignoring SIGINT and SIGTERM (ignored signals are inherited).
  const std::string tree = "trap '' INT TERM; " + target + " ignore-term 60 INT & " + target +
                           " ignore-term 60 INT & echo started; wait";
  SpawnOptions spawn = options({"run", "--kill-after", "30s", "--report", report_copy_path().string(), "--", "sh",
                                "-c", tree});
  spawn.env.emplace_back("GITHUB_ACTIONS", "true");
  spawn.env.emplace_back("GITHUB_STEP_SUMMARY", summary.string());
  GuardianProcess guardian(spawn);
  const auto ready_deadline = std::chrono::steady_clock::now() + 15s;
  while (occurrences(guardian.out(), "ready") < 2 && std::chrono::steady_clock::now() < ready_deadline)
    guardian.wait_for_stdout(kNever, 100ms);
  ASSERT_EQ(occurrences(guardian.out(), "ready"), 2u) << guardian.out();
  ASSERT_GE(processes_with_marker(marker_).size(), 4u);  // guardian, sh, two targets

  // GitHub's sequence, with its real timings: each step only if guardian is still there.
  bool sent_sigterm = false, sent_sigkill = false;
  guardian.send_signal(SIGINT);
  guardian.wait_for_stdout(kNever, 7500ms);
  if (!has_ended(guardian.pid())) {
    sent_sigterm = ::kill(guardian.pid(), SIGTERM) == 0;
    guardian.wait_for_stdout(kNever, 2500ms);
    if (!has_ended(guardian.pid())) sent_sigkill = ::kill(guardian.pid(), SIGKILL) == 0;
  }
  RunResult result = guardian.wait(5s);
  EXPECT_FALSE(sent_sigkill) << "GitHub would have killed guardian: " << result.describe();
  EXPECT_FALSE(sent_sigterm) << "guardian's own grace should end the tree before GitHub's SIGTERM: "
                             << result.describe();
  EXPECT_EQ(result.term_signal, 0) << result.describe();
  EXPECT_EQ(result.exit_code, 128 + SIGKILL) << result.describe();  // the tree was killed

  EXPECT_TRUE(processes_with_marker(marker_).empty());
  auto report_json = report();
  ASSERT_TRUE(report_json.is_object());
  EXPECT_EQ(report_json["stop_reason"], "signal SIGINT");
  EXPECT_EQ(report_json["escalated_to_kill"], true);
  EXPECT_EQ(report_json["ci"]["cancel_grace_ms"], 5000) << report_json.dump(2);
  EXPECT_FALSE(report_json["ended_at"].get<std::string>().empty());
  // The same report in the run directory, and the job summary written before the end.
  EXPECT_EQ(read_json_file(only_run_dir(dir_) / "report.json")["exit_code"], 137);
  EXPECT_NE(read_text_file(summary).find("signal SIGINT"), std::string::npos);
  for (const auto& event : read_json_lines(only_run_dir(dir_) / "events.jsonl")) {
    if (event.value("event", "") == "stop.requested") {
      EXPECT_EQ(event["context"]["kill_after_ms"], 5000) << event.dump();
    }
  }
}

TEST_F(AdaptersCi, GitlabSectionAroundTheRunAndJunitMention) {
  SpawnOptions spawn = options({"run", "--junit", "results.xml", "--", target_bin(), "print-args", "inside"});
  spawn.env.emplace_back("GITLAB_CI", "true");
  spawn.env.emplace_back("CI", "true");
  GuardianProcess process(spawn);
  auto result = process.wait(20s);
  EXPECT_EQ(result.exit_code, 0) << result.describe();
  const auto start = result.out.find("\x1b[0Ksection_start:");
  const auto inside = result.out.find("inside\n");
  const auto end = result.out.find("\x1b[0Ksection_end:");
  ASSERT_NE(start, std::string::npos) << result.describe();
  ASSERT_NE(end, std::string::npos) << result.describe();
  EXPECT_LT(start, inside);
  EXPECT_LT(inside, end);
  EXPECT_NE(result.out.find(":guardian_run\r\x1b[0Kguardian run: "), std::string::npos) << result.out;
  EXPECT_NE(result.out.find(":guardian_run\r\x1b[0K", end), std::string::npos) << result.out;
  EXPECT_NE(result.err.find("artifacts:reports:junit"), std::string::npos) << result.describe();
  // A CI without a provider of its own changes only the mode: no sections, no annotations.
  SpawnOptions plain = options({"run", "--", target_bin(), "print-args", "inside"});
  plain.env.emplace_back("CI", "true");
  GuardianProcess plain_process(plain);
  auto plain_result = plain_process.wait(20s);
  EXPECT_EQ(plain_result.out, "inside\n") << plain_result.describe();
  EXPECT_NE(plain_result.err.find("mode test"), std::string::npos) << plain_result.describe();
}

}  // namespace
}  // namespace guardian::testing
