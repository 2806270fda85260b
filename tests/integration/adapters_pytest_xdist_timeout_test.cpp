// --test-timeout under pytest-xdist: only the hung worker (and its subprocess) is stopped;
// xdist replaces it, the other tests still run and the run ends by itself with pytest's code.
#include <signal.h>

#include <cerrno>
#include <fstream>

#include "harness.hpp"

namespace guardian::testing {
namespace {

const fs::path kSuite = fs::path(GUARDIAN_SOURCE_DIR) / "examples" / "pytest-suite";

bool process_gone(pid_t pid) {
  errno = 0;
  if (::kill(pid, 0) != 0 && errno == ESRCH) return true;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  return line.find(") Z") != std::string::npos;  // a zombie not yet reaped counts as gone
}

class AdaptersPytestXdistTimeout : public GuardianTest {};

TEST_F(AdaptersPytestXdistTimeout, OnlyTheHungWorkerIsStopped) {
  const fs::path pid_file = dir_ / "child.pid";
  auto spawn = options({"run", "--test-timeout", "2s", "--report", report_copy_path().string(), "--",
                        "/usr/bin/python3", "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "2", "--rootdir",
                        kSuite.string(), (kSuite / "hang").string(), (kSuite / "test_basic.py").string(), "-k",
                        "hang or passes"});
  spawn.env.emplace_back("HANG_CHILD_PID_FILE", pid_file.string());
  GuardianProcess guardian(spawn);
  auto result = guardian.wait(60s);
  ASSERT_FALSE(result.deadline_hit) << result.describe();
  EXPECT_EQ(result.exit_code, 1) << result.describe();  // pytest's own: one test failed (its worker crashed)

  std::vector<Json> timeouts;
  for (auto& alert : read_json_lines(only_run_dir(dir_) / "alerts.jsonl"))
    if (alert.value("type", "") == "TEST_TIMEOUT") timeouts.push_back(alert);
  ASSERT_EQ(timeouts.size(), 1u) << result.describe();
  EXPECT_EQ(timeouts[0]["subject"], "hang/test_hang.py::test_hangs_with_subprocess");
  EXPECT_EQ(timeouts[0]["context"]["scope"], "worker");

  auto report_json = report();
  EXPECT_TRUE(report_json["killed_by"].is_null()) << report_json.dump(2);  // the run was not stopped
  EXPECT_TRUE(report_json["stop_reason"].is_null());
  auto tests = report_json["tests"];
  EXPECT_EQ(tests["counts"]["passed"], 3) << tests.dump(2);  // test_before_hang and test_basic's two
  EXPECT_EQ(tests["counts"]["failed"], 1);
  ASSERT_EQ(tests["failures"].size(), 1u);
  EXPECT_NE(tests["failures"][0]["text"].get<std::string>().find("--test-timeout"), std::string::npos);

  std::ifstream in(pid_file);
  pid_t child = 0;
  ASSERT_TRUE(in >> child) << "the hanging test did not record its subprocess";
  EXPECT_TRUE(process_gone(child)) << "subprocess " << child << " of the hung test is still alive";
}

}  // namespace
}  // namespace guardian::testing
