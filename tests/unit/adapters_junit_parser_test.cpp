// The JUnit XML reader on small hand-written documents (the integration tests use XML written
// by real pytest, ctest and GoogleTest): outcomes, names, durations, text, problems.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "adapters/junit/junit_adapter.hpp"
#include "adapters/junit/junit_parser.hpp"
#include "guardian/config/config.hpp"

namespace guardian::adapters::junit {
namespace {

TEST(JunitParser, OutcomesOfEveryKind) {
  auto report = parse_junit(R"X(<?xml version="1.0"?>
<testsuites time="2.5">
  <testsuite name="pytest" tests="5">
    <testcase classname="tests.test_api" name="test_ok" time="0.5"/>
    <testcase classname="tests.test_api" name="test_bad" time="1.25"><failure message="boom&#10;second line">trace</failure></testcase>
    <testcase classname="tests.test_api" name="test_err" time="0"><error>setup exploded</error></testcase>
    <testcase classname="tests.test_api" name="test_skip"><skipped message="later"/></testcase>
    <testcase classname="tests.test_api" name="test_xfail"><skipped type="pytest.xfail" message="known"/></testcase>
  </testsuite>
</testsuites>)X");
  ASSERT_TRUE(report.ok()) << report.problem;
  ASSERT_EQ(report.results.size(), 5u);
  EXPECT_EQ(report.results[0].nodeid, "tests.test_api::test_ok");
  EXPECT_EQ(report.results[0].outcome, "passed");
  EXPECT_DOUBLE_EQ(report.results[1].duration_s, 1.25);
  EXPECT_EQ(report.results[1].outcome, "failed");
  EXPECT_EQ(report.results[1].text, "boom\nsecond line");  // the message first
  EXPECT_EQ(report.results[2].outcome, "error");
  EXPECT_EQ(report.results[2].text, "setup exploded");      // else the body
  EXPECT_EQ(report.results[3].outcome, "skipped");
  EXPECT_EQ(report.results[4].outcome, "xfailed");
  EXPECT_DOUBLE_EQ(report.duration_s, 2.5);  // the root's own time
  EXPECT_EQ(report.tool, "pytest");
}

TEST(JunitParser, NestedSuitesAndDurationFallbacks) {
  auto report = parse_junit(R"X(<testsuites>
  <testsuite name="outer" time="0"><testsuite name="inner">
    <testcase name="a" classname="a" time="0.25"/><testcase name="b" time="0.5"/>
  </testsuite></testsuite>
</testsuites>)X");
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(report.results.size(), 2u);
  EXPECT_EQ(report.results[0].nodeid, "a");  // classname equal to the name is not repeated
  EXPECT_EQ(report.results[1].nodeid, "b");
  EXPECT_DOUBLE_EQ(report.duration_s, 0.75);  // no suite time: the sum of the tests
}

TEST(JunitParser, GoogleTestNamesAndStatuses) {
  auto report = parse_junit(R"X(<testsuites name="AllTests" time="0.1"><testsuite name="S">
<testcase name="Run" status="run" result="completed" classname="S"/>
<testcase name="DISABLED_X" status="notrun" result="suppressed" classname="S"/>
<testcase name="Skip" status="run" result="skipped" classname="S"><skipped message="no"/></testcase>
</testsuite></testsuites>)X");
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report.tool, "googletest");
  EXPECT_EQ(report.results[0].nodeid, "S.Run");
  EXPECT_EQ(report.results[1].outcome, "skipped");
  EXPECT_EQ(report.results[2].outcome, "skipped");
}

TEST(JunitParser, CtestFailureTextComesFromTheOutput) {
  auto report = parse_junit(R"X(<testsuite name="(empty)" time="0">
<testcase name="fails" classname="fails" time="0.5" status="fail"><failure message=""/><system-out>it broke
</system-out></testcase></testsuite>)X");
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report.tool, "ctest");
  EXPECT_EQ(report.results[0].text, "it broke");
  EXPECT_DOUBLE_EQ(report.duration_s, 0.5);
}

TEST(JunitParser, CtestNotRunIsAFailureUnlessTheTestAskedToBeSkipped) {
  // As ctest 3.25 writes them: a missing executable, SKIP_RETURN_CODE, DISABLED.
  auto report = parse_junit(R"X(<testsuite name="(empty)" time="0">
<testcase name="missing" classname="missing" time="0" status="notrun"><skipped message="Unable to find executable"/>
<system-out>Unable to find executable: /nonexistent/prog</system-out></testcase>
<testcase name="skipme" classname="skipme" time="0" status="notrun"><skipped message="SKIP_RETURN_CODE=77"/>
<system-out></system-out></testcase>
<testcase name="off" classname="off" time="0" status="disabled"><system-out>Disabled</system-out></testcase>
</testsuite>)X");
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(report.results.size(), 3u);
  EXPECT_EQ(report.results[0].outcome, "failed");
  EXPECT_EQ(report.results[0].text, "Unable to find executable: /nonexistent/prog");
  EXPECT_EQ(report.results[1].outcome, "skipped");
  EXPECT_EQ(report.results[2].outcome, "skipped");
}

TEST(JunitParser, ProblemsSayWhatIsWrong) {
  auto truncated = parse_junit("<testsuite>\n<testcase name=\"a\"", "r.xml");
  EXPECT_EQ(truncated.status, JunitReport::Status::malformed);
  EXPECT_NE(truncated.problem.find("r.xml:2: not well-formed XML"), std::string::npos) << truncated.problem;
  auto html = parse_junit("<html/>", "r.xml");
  EXPECT_EQ(html.status, JunitReport::Status::malformed);
  EXPECT_NE(html.problem.find("root element is <html>"), std::string::npos) << html.problem;

  auto missing = read_junit_file("/nonexistent/dir/results.xml");
  EXPECT_EQ(missing.status, JunitReport::Status::missing);
  EXPECT_NE(missing.problem.find("no such file"), std::string::npos);
  auto directory = read_junit_file("/tmp");
  EXPECT_EQ(directory.status, JunitReport::Status::unreadable);
  EXPECT_NE(directory.problem.find("not its directory"), std::string::npos) << directory.problem;

  auto empty_path = std::filesystem::temp_directory_path() / "guardian-junit-empty.xml";
  std::ofstream{empty_path};
  auto empty = read_junit_file(empty_path);
  std::filesystem::remove(empty_path);
  EXPECT_EQ(empty.status, JunitReport::Status::malformed);
  EXPECT_NE(empty.problem.find("empty"), std::string::npos);
}

TEST(JunitParser, TextStaysValidUtf8AndShort) {
  EXPECT_EQ(clean_utf8("caf\xc3\xa9"), "caf\xc3\xa9");
  EXPECT_EQ(clean_utf8("a\xff" "b\xc3"), "a?b?");
  EXPECT_EQ(clean_utf8("\xed\xa0\x80"), "???");      // a UTF-16 surrogate is not UTF-8
  EXPECT_EQ(clean_utf8("ab\xc3\xa9", 3), "ab");      // never cuts a character in two
  // Latin-1 bytes in an XML declared UTF-8 must not make the report's JSON invalid.
  auto report = parse_junit("<testsuite><testcase name=\"t\xe9st\"><failure message=\"bad \xe9\"/></testcase></testsuite>");
  ASSERT_TRUE(report.ok());
  EXPECT_NO_THROW((void)nlohmann::json({{"id", report.results[0].nodeid}, {"t", report.results[0].text}}).dump());
  std::string long_message(5000, 'x');
  auto long_report = parse_junit("<testsuite><testcase name=\"t\"><failure message=\"" + long_message +
                                 "\"/></testcase></testsuite>");
  EXPECT_EQ(long_report.results[0].text.size(), 2000u);
}

TEST(JunitPaths, CommaSeparatedRelativeToTheWorkingDirectory) {
  auto config = config::Config::defaults();
  config.set("adapters.junit.paths", "a.xml, /abs/b.xml,,sub/c.xml", {config::Origin::Layer::flag, "junit"});
  auto paths = configured_paths(config, "/work");
  ASSERT_EQ(paths.size(), 3u);
  EXPECT_EQ(paths[0], "/work/a.xml");
  EXPECT_EQ(paths[1], "/abs/b.xml");
  EXPECT_EQ(paths[2], "/work/sub/c.xml");
}

}  // namespace
}  // namespace guardian::adapters::junit

// Found by the fuzzing campaign: a root element whose name is not UTF-8 went raw into the
// problem text, and report.json's dump() threw on it at the end of the run.
TEST(JunitParser, ANonUtf8RootElementNameIsCleanedInTheProblem) {
  using namespace guardian::adapters::junit;
  const JunitReport report = parse_junit("<test\xa0\xa0suites/>", "junit.xml");
  EXPECT_EQ(report.status, JunitReport::Status::malformed);
  EXPECT_NO_THROW((void)nlohmann::json(report.problem).dump());
  EXPECT_NE(report.problem.find("the root element is <test"), std::string::npos) << report.problem;
}
