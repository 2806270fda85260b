// --test-timeout end to end: a pytest test that starts a subprocess and sleeps is named in
// TEST_TIMEOUT, its Python stacks are dumped (faulthandler) and its subprocess is gone.
#include <signal.h>

#include <cerrno>
#include <fstream>

#include "harness.hpp"

namespace guardian::testing {
namespace {

const fs::path kSuite = fs::path(GUARDIAN_SOURCE_DIR) / "examples" / "pytest-suite";

class AdaptersPytestTimeout : public GuardianTest {};

TEST_F(AdaptersPytestTimeout, HungTestIsNamedDumpedAndItsSubprocessEnded) {
  const fs::path pid_file = dir_ / "child.pid";
  auto spawn = options({"run", "--mode", "test", "--test-timeout", "2s", "--kill-after", "2s", "--report",
                        report_copy_path().string(), "--", "/usr/bin/python3", "-m", "pytest", "-q", "-p",
                        "no:cacheprovider", "--rootdir", kSuite.string(), (kSuite / "hang").string()});
  spawn.env.emplace_back("HANG_CHILD_PID_FILE", pid_file.string());
  GuardianProcess guardian(spawn);
  auto result = guardian.wait(40s);
  ASSERT_FALSE(result.deadline_hit) << result.describe();
  // 124 like --timeout: a SIGTERM from outside would be 143 (issue 16).
  EXPECT_EQ(result.exit_code, 124) << result.describe();

  std::vector<Json> timeouts;
  for (auto& alert : read_json_lines(only_run_dir(dir_) / "alerts.jsonl"))
    if (alert.value("type", "") == "TEST_TIMEOUT") timeouts.push_back(alert);
  ASSERT_EQ(timeouts.size(), 1u) << result.describe();
  EXPECT_EQ(timeouts[0]["subject"], "hang/test_hang.py::test_hangs_with_subprocess");
  // faulthandler's dump of the hung process, on the command's stderr.
  EXPECT_NE(result.err.find("most recent call first"), std::string::npos) << result.describe();
  EXPECT_NE(result.err.find("test_hangs_with_subprocess"), std::string::npos) << result.describe();
  auto report_json = report();
  EXPECT_EQ(report_json["killed_by"], "test_timeout") << report_json.dump(2);
  EXPECT_EQ(report_json["outcome"], "test_timed_out");
  EXPECT_EQ(report_json["exit_code"], 124);
  // The stopped test counts as failed, with its reason (issue 16: it was only "unfinished").
  auto tests = report_json["tests"];
  EXPECT_EQ(tests["counts"]["passed"], 1) << tests.dump(2);
  EXPECT_EQ(tests["counts"]["failed"], 1) << tests.dump(2);
  EXPECT_EQ(tests["total"], 2) << tests.dump(2);
  ASSERT_EQ(tests["failures"].size(), 1u) << tests.dump(2);
  EXPECT_EQ(tests["failures"][0]["nodeid"], "hang/test_hang.py::test_hangs_with_subprocess");
  EXPECT_NE(tests["failures"][0]["text"].get<std::string>().find("timed out after 2s (--test-timeout)"),
            std::string::npos) << tests.dump(2);
  EXPECT_TRUE(tests["unfinished"].empty()) << tests.dump(2);

  std::ifstream in(pid_file);
  pid_t child = 0;
  ASSERT_TRUE(in >> child) << "the hanging test did not record its subprocess";
  errno = 0;
  bool gone = ::kill(child, 0) != 0 && errno == ESRCH;
  if (!gone) {  // a zombie not yet reaped by init counts as gone
    std::ifstream stat("/proc/" + std::to_string(child) + "/stat");
    std::string line;
    std::getline(stat, line);
    gone = line.find(") Z") != std::string::npos;
  }
  EXPECT_TRUE(gone) << "subprocess " << child << " of the hung test is still alive";
}

}  // namespace
}  // namespace guardian::testing
