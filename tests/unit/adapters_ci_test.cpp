// CI adapter logic: detection from variables, the mode default and who wins over it,
// GitHub's escaping rules for workflow commands, GitLab section lines, the job summary,
// and the shared TEST_FAILED no-storm rule.
#include <gtest/gtest.h>

#include <map>

#include "adapters/ci/ci_environment.hpp"
#include "adapters/ci/github_commands.hpp"
#include "adapters/ci/gitlab_sections.hpp"
#include "adapters/ci/step_summary.hpp"
#include "adapters/pytest/failure_alerts.hpp"
#include "guardian/alerts/alert_bus.hpp"
#include "guardian/config/config.hpp"

namespace guardian::adapters::ci {
namespace {

CiEnvironment detect(std::map<std::string, std::string> env) {
  return CiEnvironment::detect([env](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  });
}

TEST(CiEnvironment, DetectsTheProviderFromItsVariables) {
  EXPECT_FALSE(detect({}).detected());
  EXPECT_FALSE(detect({{"CI", "false"}}).detected());
  auto github = detect({{"CI", "true"}, {"GITHUB_ACTIONS", "true"}, {"GITHUB_STEP_SUMMARY", "/tmp/s.md"}});
  EXPECT_EQ(github.provider, CiEnvironment::Provider::github);
  EXPECT_EQ(github.origin(), "CI detected: GITHUB_ACTIONS");
  EXPECT_EQ(github.step_summary, "/tmp/s.md");
  EXPECT_EQ(detect({{"GITLAB_CI", "true"}}).provider, CiEnvironment::Provider::gitlab);
  EXPECT_EQ(detect({{"CI", "1"}}).provider, CiEnvironment::Provider::generic);
  EXPECT_EQ(detect({{"CI", "True"}}).variable, "CI");
}

TEST(CiEnvironment, ModeTestOnlyWhenNobodyChose) {
  auto ci = detect({{"CI", "true"}});
  auto config = config::Config::defaults();
  apply_ci_defaults(config, ci);
  EXPECT_EQ(config.text("mode"), "test");
  EXPECT_EQ(config.find("mode")->origin.describe(), "env CI detected: CI");

  auto chosen = config::Config::defaults();
  chosen.set("mode", "dev", {config::Origin::Layer::file, "guardian.toml:1"});
  apply_ci_defaults(chosen, ci);
  EXPECT_EQ(chosen.text("mode"), "dev");

  auto disabled = config::Config::defaults();
  disabled.set("adapters.ci.disabled", "true", {config::Origin::Layer::flag, "no-ci"});
  apply_ci_defaults(disabled, ci);
  EXPECT_EQ(disabled.text("mode"), "dev");
  EXPECT_FALSE(CiEnvironment::for_run(disabled, [](const char*) { return "true"; }).detected());
}

TEST(GithubCommands, EscapingFollowsGithubsRules) {
  EXPECT_EQ(escape_data("100% done\r\nnext: a,b"), "100%25 done%0D%0Anext: a,b");
  EXPECT_EQ(escape_property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
  EXPECT_EQ(workflow_command("notice", {}, "hi"), "::notice::hi");
  EXPECT_EQ(workflow_command("error", {{"title", "t: 1"}, {"file", "a,b.py"}}, "m\nx"),
            "::error title=t%3A 1,file=a%2Cb.py::m%0Ax");
}

TEST(GithubCommands, AlertSeverityPicksTheCommand) {
  nlohmann::json alert{{"type", "SERVER_DOWN"}, {"severity", "critical"}, {"title", "api down"}, {"message", "m"}};
  EXPECT_EQ(alert_annotation(alert), "::error title=guardian%3A SERVER_DOWN%3A api down::m");
  alert["severity"] = "warning";
  EXPECT_TRUE(alert_annotation(alert).starts_with("::warning "));
  alert["severity"] = "info";
  alert["suppressed_count"] = 3;
  EXPECT_EQ(alert_annotation(alert), "::notice title=guardian%3A SERVER_DOWN%3A api down::m (3 similar alerts suppressed)");
}

TEST(GithubCommands, TestAlertsPointAtTheirFileAndLine) {
  nlohmann::json alert{{"type", "TEST_FAILED"}, {"severity", "warning"}, {"title", "test failed: t"},
                       {"message", "/ws/tests/test_x.py:15: AssertionError: no"},
                       {"context", {{"nodeid", "tests/test_x.py::TestA::test_b[1]"}}}};
  EXPECT_EQ(alert_annotation(alert, "/ws"),
            "::warning file=tests/test_x.py,line=15,title=guardian%3A TEST_FAILED%3A test failed%3A t::"
            "/ws/tests/test_x.py:15: AssertionError: no");
  // Another file in the text, or no number: no line; an id without a file: no file.
  alert["message"] = "/ws/conftest.py:3: boom";
  EXPECT_TRUE(alert_annotation(alert, "/ws").starts_with("::warning file=tests/test_x.py,title=")) << alert_annotation(alert, "/ws");
  alert["context"]["nodeid"] = "Suite.Test";
  EXPECT_TRUE(alert_annotation(alert, "/ws").starts_with("::warning title=")) << alert_annotation(alert, "/ws");
}

TEST(GitlabSections, StartAndEndLines) {
  EXPECT_EQ(gitlab_section_start("guardian_run", "guardian run: pytest\n-q", 1700000000, true),
            "\x1b[0Ksection_start:1700000000:guardian_run[collapsed=true]\r\x1b[0Kguardian run: pytest -q");
  EXPECT_EQ(gitlab_section_end("bad name!", 1700000001), "\x1b[0Ksection_end:1700000001:bad_name_\r\x1b[0K");
}

TEST(StepSummary, TableOfTheRunAndItsTests) {
  nlohmann::json report{
      {"command", {"pytest", "-q"}}, {"exit_code", 1}, {"child_exit_code", 1}, {"outcome", "exited"},
      {"duration_ms", 12345}, {"mode", "test"}, {"run_id", "r1"},
      {"resources", {{"peak_memory_bytes", 512ull << 20}}},
      {"enforcement", {{"backend", "cgroup_v2"}, {"ceilings", {{"memory_max_bytes", 2048ull << 20}}}}},
      {"alerts", {{"emitted", 2}, {"by_type", {{"TEST_FAILED", {{"emitted", 2}}}}}}},
      {"tests", {{"source", "pytest"}, {"total", 3}, {"duration_s", 1.5},
                 {"counts", {{"passed", 1}, {"failed", 2}}},
                 {"failures", {{{"nodeid", "t.py::a"}, {"outcome", "failed"}, {"text", "x | y\nz"}}}},
                 {"slowest", {{{"nodeid", "t.py::slow"}, {"duration_s", 1.2}, {"outcome", "passed"}}}}}}};
  nlohmann::json history = nlohmann::json::array(
      {{{"severity", "warning"}, {"type", "TEST_FAILED"}, {"title", "test failed: t.py::a"}}});
  auto markdown = job_summary_markdown(report, history);
  EXPECT_NE(markdown.find("### ❌ guardian: `pytest -q` exited with 1"), std::string::npos) << markdown;
  EXPECT_NE(markdown.find("| Duration | 12.3 s |"), std::string::npos) << markdown;
  EXPECT_NE(markdown.find("| Peak memory | 512 MiB of 2.0 GiB ceiling (25.0 %) |"), std::string::npos) << markdown;
  EXPECT_NE(markdown.find("| Mode · backend | test · cgroup_v2 |"), std::string::npos) << markdown;
  EXPECT_NE(markdown.find("| Alerts | 2 (TEST_FAILED 2) |"), std::string::npos) << markdown;
  EXPECT_NE(markdown.find("1 passed, 2 failed — 3 in 1.50 s"), std::string::npos) << markdown;
  EXPECT_NE(markdown.find("| `t.py::a` | failed | x \\| y<br>z |"), std::string::npos) << markdown;
  EXPECT_NE(markdown.find("| `t.py::slow` | 1.20 s | passed |"), std::string::npos) << markdown;
  EXPECT_NE(markdown.find("| warning | TEST_FAILED | test failed: t.py::a |"), std::string::npos) << markdown;

  report["exit_code"] = 0;
  report["child_exit_code"] = 0;
  report.erase("tests");
  report["enforcement"]["ceilings"] = nlohmann::json::object();
  markdown = job_summary_markdown(report, nlohmann::json::array());
  EXPECT_NE(markdown.find("### ✅"), std::string::npos);
  EXPECT_NE(markdown.find("(no memory ceiling)"), std::string::npos) << markdown;
  EXPECT_EQ(markdown.find("#### Tests"), std::string::npos);
}

TEST(StepSummary, HeaviestTestsWithTheirPeakAndCpu) {
  nlohmann::json report{{"command", {"pytest"}}, {"exit_code", 0},
                        {"tests", {{"source", "pytest"}, {"total", 2}, {"counts", {{"passed", 2}}},
                                   {"heaviest", {{{"nodeid", "t.py::alloc"}, {"peak_memory_bytes", 330ull << 20},
                                                  {"cpu_ms", 250}, {"duration_ms", 310}}}}}}};
  auto markdown = job_summary_markdown(report, nlohmann::json::array());
  EXPECT_NE(markdown.find("Heaviest tests"), std::string::npos) << markdown;
  EXPECT_NE(markdown.find("| `t.py::alloc` | 330 MiB | 0.25 s | 0.31 s |"), std::string::npos) << markdown;
  report["tests"].erase("heaviest");
  EXPECT_EQ(job_summary_markdown(report, nlohmann::json::array()).find("Heaviest"), std::string::npos);
}

TEST(FailureAlerts, TenThenOneSummary) {
  alerts::AlertBus bus(alerts::AlertBusOptions{});
  pytest::FailureAlerts failures(bus, "junit");
  for (int i = 0; i < 14; ++i) failures.failed({"t::" + std::to_string(i), "failed", 0.1, "boom", "", std::nullopt});
  failures.finish(14);
  failures.finish(14);  // once only
  auto history = bus.history();
  ASSERT_EQ(history.size(), 11u);
  EXPECT_EQ(history[0]["source"], "junit");
  EXPECT_EQ(history[0]["subject"], "t::0");
  EXPECT_EQ(history[10]["title"], "4 more tests failed");
  EXPECT_EQ(failures.held_back(), 4u);
}

}  // namespace
}  // namespace guardian::adapters::ci
