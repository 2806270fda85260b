// --junit end to end, on XML written in the test by the real tools: pytest --junitxml,
// ctest --output-junit and a GoogleTest binary's --gtest_output=xml. The files become
// TEST_FAILED alerts (10, then one summary) and the report's "tests" section; a missing or
// malformed file is a warning in the report, never a failure of the run.
#include <fstream>

#include "harness.hpp"

namespace guardian::testing {
namespace {

const fs::path kSuite = fs::path(GUARDIAN_SOURCE_DIR) / "examples" / "pytest-suite";

class AdaptersJunit : public GuardianTest {
 protected:
  std::vector<Json> alerts_of_type(const std::string& type) const {
    std::vector<Json> out;
    for (auto& alert : read_json_lines(only_run_dir(dir_) / "alerts.jsonl"))
      if (alert.value("type", "") == type) out.push_back(alert);
    return out;
  }
  // guardian run --report ... FLAGS -- /usr/bin/python3 -m pytest ... --junitxml XML test_basic.py
  std::vector<std::string> pytest_junit(std::vector<std::string> flags, const fs::path& xml) const {
    std::vector<std::string> args{"run", "--report", report_copy_path().string()};
    args.insert(args.end(), flags.begin(), flags.end());
    for (auto item : {"--", "/usr/bin/python3", "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir"})
      args.emplace_back(item);
    args.push_back(kSuite.string());
    args.push_back("--junitxml=" + xml.string());
    args.push_back((kSuite / "test_basic.py").string());
    return args;
  }
  static Json find_failure(const Json& tests, const std::string& nodeid) {
    for (const auto& failure : tests["failures"])
      if (failure["nodeid"] == nodeid) return failure;
    return nullptr;
  }
};

TEST_F(AdaptersJunit, PytestJunitXmlFillsTheReportWhenThePluginIsOff) {
  const fs::path xml = dir_ / "results.xml";
  auto result = run(pytest_junit({"--no-pytest-plugin", "--junit", xml.string()}, xml), 60s);
  ASSERT_FALSE(result.deadline_hit) << result.describe();
  EXPECT_EQ(result.exit_code, 1) << result.describe();  // pytest's own: tests failed
  ASSERT_TRUE(fs::exists(xml)) << result.describe();

  auto tests = report()["tests"];
  ASSERT_TRUE(tests.is_object()) << report().dump(2);
  EXPECT_EQ(tests["source"], "junit");
  EXPECT_EQ(tests["total"], 17);
  EXPECT_EQ(tests["counts"]["passed"], 2);
  EXPECT_EQ(tests["counts"]["failed"], 13);
  EXPECT_EQ(tests["counts"]["error"], 1);
  EXPECT_EQ(tests["counts"]["skipped"], 1);
  EXPECT_GT(tests["duration_s"].get<double>(), 0.3);  // test_slow_passes sleeps 0.3 s
  ASSERT_FALSE(tests["slowest"].empty());
  EXPECT_EQ(tests["slowest"][0]["nodeid"], "test_basic::test_slow_passes");
  auto fails = find_failure(tests, "test_basic::test_fails");
  ASSERT_TRUE(fails.is_object()) << tests.dump(2);
  EXPECT_NE(fails["text"].get<std::string>().find("arithmetic is broken"), std::string::npos);
  EXPECT_EQ(report()["junit"]["files"][0]["tool"], "pytest");

  // The pytest adapter's no-storm rule: 10 alerts, then one summary for the 4 others.
  auto alerts = alerts_of_type("TEST_FAILED");
  ASSERT_EQ(alerts.size(), 11u) << report()["alerts"].dump();
  EXPECT_EQ(alerts[0]["source"], "junit");
  EXPECT_EQ(alerts.back()["subject"], "tests");
  EXPECT_NE(alerts.back()["title"].get<std::string>().find("4 more tests failed"), std::string::npos);
}

// With the plugin on, pytest's own events fill the section; the XML is only checked and
// listed, and no failure is alerted twice.
TEST_F(AdaptersJunit, PytestEventsWinOverTheJunitFile) {
  const fs::path xml = dir_ / "results.xml";
  auto result = run(pytest_junit({"--junit", xml.string()}, xml), 60s);
  ASSERT_FALSE(result.deadline_hit) << result.describe();
  EXPECT_EQ(report()["tests"]["source"], "pytest") << report().dump(2);
  EXPECT_EQ(report()["junit"]["files"][0]["status"], "ok");
  EXPECT_EQ(report()["junit"]["files"][0]["tests"], 17);
  EXPECT_EQ(alerts_of_type("TEST_FAILED").size(), 11u);
}

TEST_F(AdaptersJunit, CtestOutputJunit) {
  // A real CTest project: one pass, one failure (its output is the only text), one skip, one
  // "Not Run" (its executable is missing: ctest counts it failed) and one disabled.
  const fs::path project = dir_ / "project";
  fs::create_directories(project);
  std::ofstream(project / "CMakeLists.txt")
      << "cmake_minimum_required(VERSION 3.25)\nproject(sample NONE)\nenable_testing()\n"
         "add_test(NAME passes COMMAND true)\n"
         "add_test(NAME fails COMMAND sh -c \"echo something broke; exit 3\")\n"
         "add_test(NAME skipped COMMAND sh -c \"exit 77\")\n"
         "set_tests_properties(skipped PROPERTIES SKIP_RETURN_CODE 77)\n"
         "add_test(NAME not_run COMMAND /nonexistent/guardian-test-program)\n"
         "add_test(NAME disabled COMMAND true)\n"
         "set_tests_properties(disabled PROPERTIES DISABLED TRUE)\n";
  const std::string configure = "cmake -S '" + project.string() + "' -B '" + (project / "build").string() +
                                "' > /dev/null 2>&1";
  ASSERT_EQ(std::system(configure.c_str()), 0);
  const fs::path xml = dir_ / "ctest.xml";
  auto result = run({"run", "--report", report_copy_path().string(), "--junit", xml.string(), "--", "ctest",
                     "--test-dir", (project / "build").string(), "--output-junit", xml.string()},
                    60s);
  ASSERT_FALSE(result.deadline_hit) << result.describe();
  EXPECT_EQ(result.exit_code, 8) << result.describe();  // ctest: some tests failed
  auto tests = report()["tests"];
  EXPECT_EQ(tests["source"], "junit") << report().dump(2);
  EXPECT_EQ(tests["total"], 5);
  EXPECT_EQ(tests["counts"]["passed"], 1);
  EXPECT_EQ(tests["counts"]["failed"], 2) << tests.dump(2);  // fails, not_run
  EXPECT_EQ(tests["counts"]["skipped"], 2);                   // skipped (SKIP_RETURN_CODE), disabled
  auto fails = find_failure(tests, "fails");
  ASSERT_TRUE(fails.is_object()) << tests.dump(2);
  EXPECT_NE(fails["text"].get<std::string>().find("something broke"), std::string::npos) << fails.dump();
  auto not_run = find_failure(tests, "not_run");
  ASSERT_TRUE(not_run.is_object()) << tests.dump(2);
  EXPECT_NE(not_run["text"].get<std::string>().find("Unable to find executable"), std::string::npos) << not_run.dump();
  EXPECT_EQ(report()["junit"]["files"][0]["tool"], "ctest");
  auto alerts = alerts_of_type("TEST_FAILED");
  ASSERT_EQ(alerts.size(), 2u);
  EXPECT_EQ(alerts[0]["subject"], "fails");
  EXPECT_EQ(alerts[1]["subject"], "not_run");
}

// ctest writes a relative --output-junit under --test-dir: the missing-file hint says so.
TEST_F(AdaptersJunit, MissingCtestFileHintNamesTestDir) {
  auto result = run({"run", "--report", report_copy_path().string(), "--junit", "tests.xml", "--", "true"}, 30s);
  EXPECT_EQ(result.exit_code, 0) << result.describe();
  auto problem = report()["junit"]["files"][0]["problem"].get<std::string>();
  EXPECT_NE(problem.find("ctest's --test-dir"), std::string::npos) << problem;
  EXPECT_NE(result.err.find("--test-dir"), std::string::npos) << result.describe();
}

TEST_F(AdaptersJunit, GoogleTestXml) {
  const fs::path xml = dir_ / "gtest.xml";
  auto result = run({"run", "--report", report_copy_path().string(), "--junit", xml.string(), "--", GTEST_SAMPLE_BIN,
                     "--gtest_output=xml:" + xml.string()},
                    60s);
  ASSERT_FALSE(result.deadline_hit) << result.describe();
  EXPECT_EQ(result.exit_code, 1) << result.describe();
  auto tests = report()["tests"];
  EXPECT_EQ(tests["source"], "junit") << report().dump(2);
  EXPECT_EQ(tests["counts"]["passed"], 2) << tests.dump(2);
  EXPECT_EQ(tests["counts"]["failed"], 2);
  EXPECT_EQ(tests["counts"]["skipped"], 2);  // GTEST_SKIP and DISABLED_
  EXPECT_EQ(tests["slowest"][0]["nodeid"], "Sample.SlowPasses");
  auto fails = find_failure(tests, "Sample.Fails");
  ASSERT_TRUE(fails.is_object()) << tests.dump(2);
  EXPECT_NE(fails["text"].get<std::string>().find("arithmetic is broken"), std::string::npos) << fails.dump();
  auto piped = find_failure(tests, "Other.FailsWithPipe");
  ASSERT_TRUE(piped.is_object()) << tests.dump(2);
  EXPECT_NE(piped["text"].get<std::string>().find("a | b <not> & \"quoted\""), std::string::npos) << piped.dump();
  EXPECT_EQ(report()["junit"]["files"][0]["tool"], "googletest");
  EXPECT_EQ(alerts_of_type("TEST_FAILED").size(), 2u);
}

// The file named in the config (a TOML array) and by the flag; problems are warnings.
TEST_F(AdaptersJunit, MissingAndMalformedFilesAreWarningsNotFailures) {
  std::ofstream(dir_ / "guardian.toml") << "[adapters.junit]\npaths = [\"missing.xml\", \"truncated.xml\"]\n";
  // The command writes a cut-off file, like a runner killed mid-write.
  auto result = run({"run", "--report", report_copy_path().string(), "--junit", "not-junit.xml", "--", "sh", "-c",
                     "printf '<testsuite><testcase name=\"a\"' > truncated.xml; printf '<html></html>' > not-junit.xml; "
                     "exit 3"},
                    30s);
  ASSERT_FALSE(result.deadline_hit) << result.describe();
  EXPECT_EQ(result.exit_code, 3) << result.describe();  // the command's own, unaffected
  auto junit = report()["junit"];
  ASSERT_EQ(junit["files"].size(), 1u) << junit.dump(2);  // the flag replaces the file's list
  EXPECT_EQ(junit["files"][0]["status"], "malformed");
  EXPECT_NE(junit["files"][0]["problem"].get<std::string>().find("root element is <html>"), std::string::npos);
  EXPECT_FALSE(report().contains("tests"));
  EXPECT_NE(result.err.find("not-junit.xml"), std::string::npos) << result.describe();

  auto from_file = run({"run", "--report", report_copy_path().string(), "--", "sh", "-c",
                        "printf '<testsuite><testcase name=\"a\"' > truncated.xml"},
                       30s);
  EXPECT_EQ(from_file.exit_code, 0) << from_file.describe();
  junit = report()["junit"];
  ASSERT_EQ(junit["files"].size(), 2u) << junit.dump(2);
  EXPECT_EQ(junit["files"][0]["status"], "missing");
  EXPECT_NE(junit["files"][0]["problem"].get<std::string>().find("no such file"), std::string::npos);
  EXPECT_EQ(junit["files"][1]["status"], "malformed");
  EXPECT_NE(junit["files"][1]["problem"].get<std::string>().find("truncated.xml:1: not well-formed XML"),
            std::string::npos) << junit.dump(2);
  EXPECT_EQ(junit["warnings"].size(), 2u);
  EXPECT_NE(from_file.err.find("missing.xml: no such file"), std::string::npos) << from_file.describe();
}

// A file the run did not write (older than its start) is read, but flagged as maybe stale.
TEST_F(AdaptersJunit, FileOlderThanTheRunIsFlaggedStale) {
  const fs::path xml = dir_ / "old.xml";
  std::ofstream(xml) << "<testsuite><testcase name=\"t\"><failure message=\"old failure\"/></testcase></testsuite>";
  fs::last_write_time(xml, fs::file_time_type::clock::now() - std::chrono::hours(1));
  auto result = run({"run", "--report", report_copy_path().string(), "--junit", xml.string(), "--", "true"}, 20s);
  EXPECT_EQ(result.exit_code, 0) << result.describe();
  auto junit = report()["junit"];
  EXPECT_EQ(junit["files"][0]["status"], "ok") << junit.dump(2);
  EXPECT_EQ(junit["files"][0]["stale"], true) << junit.dump(2);
  EXPECT_NE(junit["warnings"][0].get<std::string>().find("written before this run started"), std::string::npos);
  EXPECT_NE(result.err.find("written before this run started"), std::string::npos) << result.describe();
  EXPECT_EQ(report()["tests"]["counts"]["failed"], 1);
}

TEST_F(AdaptersJunit, RepeatedFlagReadsEveryFile) {
  const fs::path gtest_xml = dir_ / "g.xml";
  auto result = run({"run", "--report", report_copy_path().string(), "--junit", "g.xml", "--junit", "c.xml", "--",
                     "sh", "-c",
                     std::string(GTEST_SAMPLE_BIN) + " --gtest_output=xml:g.xml > /dev/null; " + GTEST_SAMPLE_BIN +
                         " --gtest_output=xml:c.xml --gtest_filter=Sample.Passes > /dev/null"},
                    60s);
  EXPECT_EQ(result.exit_code, 0) << result.describe();
  auto tests = report()["tests"];
  EXPECT_EQ(tests["files"].size(), 2u) << report().dump(2);
  EXPECT_EQ(tests["total"], 7);  // 6 + 1
}

}  // namespace
}  // namespace guardian::testing
