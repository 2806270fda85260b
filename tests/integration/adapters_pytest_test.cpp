// The pytest adapter end to end: the real guardian runs Debian's pytest on
// examples/pytest-suite; the plugin's events become alerts, the running test and the
// report's "tests" section.
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iostream>

#include "harness.hpp"

namespace guardian::testing {
namespace {

const fs::path kSuite = fs::path(GUARDIAN_SOURCE_DIR) / "examples" / "pytest-suite";

class AdaptersPytest : public GuardianTest {
 protected:
  std::vector<std::string> pytest_run(std::vector<std::string> flags, std::vector<std::string> pytest_args) const {
    std::vector<std::string> args{"run", "--mode", "test", "--report", report_copy_path().string()};
    args.insert(args.end(), flags.begin(), flags.end());
    for (auto item : {"--", "/usr/bin/python3", "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir"})
      args.emplace_back(item);
    args.push_back(kSuite.string());
    for (auto& arg : pytest_args) args.push_back(arg.starts_with("-") ? arg : (kSuite / arg).string());
    return args;
  }
  // A small test suite written into the test's directory.
  fs::path write_suite_file(const fs::path& relative, std::string_view text) const {
    fs::create_directories((dir_ / relative).parent_path());
    std::ofstream(dir_ / relative) << text;
    return dir_ / relative;
  }
  std::vector<Json> alerts_of_type(const std::string& type) const {
    std::vector<Json> out;
    for (auto& alert : read_json_lines(only_run_dir(dir_) / "alerts.jsonl"))
      if (alert.value("type", "") == type) out.push_back(alert);
    return out;
  }
};

TEST_F(AdaptersPytest, FailuresBecomeAlertsAndTheReportHasTheTestsSection) {
  auto result = run(pytest_run({}, {"test_basic.py"}), 60s);
  ASSERT_FALSE(result.deadline_hit) << result.describe();
  EXPECT_NE(result.exit_code, 0) << result.describe();  // pytest failed: guardian passes that on
  auto tests = report()["tests"];
  ASSERT_TRUE(tests.is_object()) << report().dump(2);
  EXPECT_EQ(tests["counts"]["passed"], 2);
  EXPECT_EQ(tests["counts"]["failed"], 13);
  EXPECT_EQ(tests["counts"]["error"], 1);
  EXPECT_EQ(tests["counts"]["skipped"], 1);
  EXPECT_EQ(tests["total"], 17);
  EXPECT_EQ(tests["failures"].size(), 14u);
  ASSERT_FALSE(tests["slowest"].empty());
  EXPECT_EQ(tests["slowest"][0]["nodeid"], "test_basic.py::test_slow_passes");
  EXPECT_LE(tests["slowest"].size(), 10u);

  // One TEST_FAILED per failure up to 10, then one summary: 11 alerts for 14 failures.
  auto alerts = alerts_of_type("TEST_FAILED");
  ASSERT_EQ(alerts.size(), 11u) << report()["alerts"].dump();
  bool fails_named = false;
  for (auto& alert : alerts) {
    if (alert["subject"] == "test_basic.py::test_fails") {
      fails_named = true;
      EXPECT_NE(alert["message"].get<std::string>().find("arithmetic is broken"), std::string::npos) << alert.dump();
    }
  }
  EXPECT_TRUE(fails_named);
  EXPECT_EQ(alerts.back()["subject"], "tests");
  EXPECT_NE(alerts.back()["title"].get<std::string>().find("4 more tests failed"), std::string::npos)
      << alerts.back().dump();
}

TEST_F(AdaptersPytest, CollectionErrorIsReported) {
  auto result = run(pytest_run({}, {"broken"}), 60s);
  EXPECT_EQ(result.exit_code, 2) << result.describe();  // pytest: interrupted by collection errors
  auto tests = report()["tests"];
  ASSERT_EQ(tests["collection_errors"].size(), 1u) << tests.dump(2);
  EXPECT_EQ(tests["collection_errors"][0]["nodeid"], "broken/test_broken.py");
  EXPECT_NE(tests["collection_errors"][0]["text"].get<std::string>().find("this_module_does_not_exist"),
            std::string::npos);
  EXPECT_EQ(tests["exit_status"], 2);
}

TEST_F(AdaptersPytest, PassingRunReportsOnlyPasses) {
  auto result = run(pytest_run({}, {"test_basic.py", "-kpasses"}), 60s);
  ASSERT_EQ(result.exit_code, 0) << result.describe();
  auto tests = report()["tests"];
  EXPECT_EQ(tests["counts"]["passed"], 2) << tests.dump(2);
  EXPECT_EQ(tests["counts"]["failed"], 0);
  EXPECT_EQ(tests["exit_status"], 0);
  EXPECT_TRUE(alerts_of_type("TEST_FAILED").empty());
}

TEST_F(AdaptersPytest, XdistWorkersReportTheirOwnTests) {
  auto result = run(pytest_run({}, {"-n2", "test_basic.py"}), 60s);
  ASSERT_FALSE(result.deadline_hit) << result.describe();
  auto tests = report()["tests"];
  EXPECT_EQ(tests["total"], 17) << tests.dump(2);  // each test once, from its worker
  EXPECT_EQ(tests["counts"]["failed"], 13);
  EXPECT_EQ(tests["workers"], Json::array({"gw0", "gw1"}));
  EXPECT_EQ(alerts_of_type("TEST_FAILED").size(), 11u);
}

TEST_F(AdaptersPytest, CrashingTestLeavesItUnfinishedInTheReport) {
  auto result = run(pytest_run({}, {"crash"}), 60s);
  ASSERT_FALSE(result.deadline_hit) << result.describe();
  EXPECT_EQ(result.exit_code, 128 + 6) << result.describe();  // SIGABRT
  auto tests = report()["tests"];
  EXPECT_EQ(tests["counts"]["passed"], 1) << tests.dump(2);
  ASSERT_EQ(tests["unfinished"].size(), 1u) << tests.dump(2);
  EXPECT_EQ(tests["unfinished"][0]["nodeid"], "crash/test_crash.py::test_crashes_interpreter");
}

// A ceiling kill names the test that was running ("brought down by ...").
TEST_F(AdaptersPytest, MemoryCeilingKillNamesTheRunningTest) {
  auto result = run(pytest_run({"--memory", "250M", "--kill-after", "1s"}, {"memory"}), 60s);
  ASSERT_FALSE(result.deadline_hit) << result.describe();
  EXPECT_EQ(result.exit_code, 137) << result.describe();
  auto kills = alerts_of_type("MEMORY_CEILING_KILL");
  ASSERT_EQ(kills.size(), 1u) << result.describe();
  EXPECT_EQ(kills[0]["context"]["running_test"]["nodeid"], "memory/test_memory.py::test_eats_memory")
      << kills[0].dump(2);
  EXPECT_NE(result.err.find("while running memory/test_memory.py::test_eats_memory"), std::string::npos)
      << result.describe();
}

// A test that runs pytest in a subprocess: only the outermost session is counted (issue 16:
// the inner session's 3 passed + 1 failed were added to the run, with a TEST_FAILED alert).
TEST_F(AdaptersPytest, NestedPytestSessionIsNotCounted) {
  fs::create_directories(dir_ / "suite" / "inner");
  std::ofstream(dir_ / "suite" / "inner" / "test_inner.py")
      << "def test_a(): pass\ndef test_b(): pass\ndef test_c(): pass\ndef test_d(): assert False, 'inner'\n";
  std::ofstream(dir_ / "suite" / "test_outer.py")
      << "import pathlib, subprocess, sys\n"
         "def test_runs_pytest_inside():\n"
         "    inner = pathlib.Path(__file__).parent / 'inner'\n"
         "    done = subprocess.run([sys.executable, '-m', 'pytest', '-q', '-p', 'no:cacheprovider', str(inner)],\n"
         "                          capture_output=True, text=True)\n"
         "    assert done.returncode == 1 and '1 failed, 3 passed' in done.stdout, done.stdout\n";
  auto result = run({"run", "--report", report_copy_path().string(), "--", "/usr/bin/python3", "-m", "pytest", "-q",
                     "-p", "no:cacheprovider", (dir_ / "suite" / "test_outer.py").string()},
                    60s);
  ASSERT_EQ(result.exit_code, 0) << result.describe();
  auto tests = report()["tests"];
  EXPECT_EQ(tests["total"], 1) << tests.dump(2);
  EXPECT_EQ(tests["counts"]["passed"], 1) << tests.dump(2);
  EXPECT_EQ(tests["counts"]["failed"], 0) << tests.dump(2);
  EXPECT_TRUE(alerts_of_type("TEST_FAILED").empty());
}

// Without guardian the plugin is loaded but silent: a socket path nobody listens on.
TEST(AdaptersPytestPlugin, HarmlessWhenGuardianIsAbsent) {
  std::string command = "cd '" + kSuite.string() +
                        "' && GUARDIAN_EVENTS_SOCKET=/nonexistent/guardian.sock PYTHONPATH='" +
                        (fs::path(GUARDIAN_SOURCE_DIR) / "adapters" / "pytest").string() +
                        "' PYTEST_ADDOPTS='-p guardian_pytest' /usr/bin/python3 -m pytest -q -p no:cacheprovider "
                        "test_basic.py -k passes > /dev/null 2>&1";
  int status = std::system(command.c_str());
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

// Any process of the tree can write to the event socket. Fields of the wrong type (found by the
// fuzzing campaign: "pid":"" threw json::type_error out of the event handler, which ended guardian
// and with it the run) are defaults; the run goes on and its exit code passes through.
TEST_F(AdaptersPytest, EventsWithFieldsOfTheWrongTypeDoNotEndTheRun) {
  const std::string sender =
      "import os, socket, time\n"
      "s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)\n"
      "for line in ['{\"event\":\"session_start\",\"pid\":\"\"}',\n"
      "             '{\"event\":\"test_start\",\"pid\":[1],\"nodeid\":\"x::y\"}',\n"
      "             '{\"event\":\"test_finish\",\"pid\":{},\"nodeid\":\"x::y\",\"duration_s\":\"slow\"}',\n"
      "             '{\"event\":\"session_finish\",\"pid\":null,\"duration_s\":[],\"exitstatus\":\"1\"}']:\n"
      "    s.sendto(line.encode(), os.environ['GUARDIAN_EVENTS_SOCKET'])\n"
      "time.sleep(1)\n"
      "raise SystemExit(3)\n";
  auto result = run({"run", "--report", report_copy_path().string(), "--", "/usr/bin/python3", "-c", sender}, 60s);
  ASSERT_EQ(result.term_signal, 0) << result.describe();
  EXPECT_EQ(result.exit_code, 3) << result.describe();
  EXPECT_EQ(report()["tests"]["total"], 1) << report().dump(2);
}

// Issue 16 item 7, per-test resources: a suite where one test allocates 300 MB (and frees it
// before it ends) and another spins on the CPU; the report's heaviest-tests list starts with
// the allocation, the CPU list with the spin.
class AdaptersPytestResources : public AdaptersPytest {
 protected:
  static constexpr std::uint64_t kMiB = 1u << 20;
  fs::path write_suite() const {
    return write_suite_file("costs/test_costs.py",
        "import time\n"
           "def test_tiny_first(): assert True\n"
           "def test_allocates_300mb():\n"
           "    block = bytearray(b'\\x01') * (300 * 2**20)  # written, so every page is resident\n"
           "    assert block[-1] == 1\n"
           "    del block  # freed before the test ends: only the peak remembers it\n"
           "def test_spins():\n"
           "    end = time.process_time() + 2.5  # more CPU than writing 300 MB, even on a loaded host\n"
           "    while time.process_time() < end: pass\n"
           "def test_tiny_last(): assert True\n");
  }
  std::vector<std::string> suite_run(std::vector<std::string> pytest_flags) const {
    std::vector<std::string> args{"run", "--report", report_copy_path().string(), "--", "/usr/bin/python3", "-m",
                                  "pytest", "-q", "-p", "no:cacheprovider"};
    args.insert(args.end(), pytest_flags.begin(), pytest_flags.end());
    args.push_back(write_suite().string());
    return args;
  }
  void expect_heaviest(const Json& tests) const {
    ASSERT_TRUE(tests["heaviest"].is_array()) << tests.dump(2);
    ASSERT_EQ(tests["heaviest"].size(), 4u) << tests.dump(2);
    const auto& top = tests["heaviest"][0];
    EXPECT_EQ(top["nodeid"], "costs/test_costs.py::test_allocates_300mb") << tests["heaviest"].dump(2);
    EXPECT_GE(top["peak_memory_bytes"].get<std::uint64_t>(), 300 * kMiB) << top.dump();
    EXPECT_FALSE(top.contains("peak_memory_exact")) << "clear_refs works for our own processes";
    // The others stay near the interpreter's own size, far below the allocation.
    for (std::size_t i = 1; i < tests["heaviest"].size(); ++i)
      EXPECT_LT(tests["heaviest"][i]["peak_memory_bytes"].get<std::uint64_t>(), 150 * kMiB)
          << tests["heaviest"].dump(2);
    ASSERT_EQ(tests["heaviest_cpu"].size(), 4u) << tests.dump(2);
    EXPECT_EQ(tests["heaviest_cpu"][0]["nodeid"], "costs/test_costs.py::test_spins") << tests["heaviest_cpu"].dump(2);
    EXPECT_GE(tests["heaviest_cpu"][0]["cpu_ms"].get<double>(), 2400) << tests["heaviest_cpu"].dump(2);
    EXPECT_GE(tests["heaviest_cpu"][0]["duration_ms"].get<double>(), 2400);
    std::cout << "[ measured ] heaviest: " << tests["heaviest"].dump() << "\n[ measured ] heaviest_cpu: "
              << tests["heaviest_cpu"].dump() << "\n";
  }
};

TEST_F(AdaptersPytestResources, HeaviestTestsStartWithThe300MbAllocation) {
  auto result = run(suite_run({}), 60s);
  ASSERT_EQ(result.exit_code, 0) << result.describe();
  expect_heaviest(report()["tests"]);
  // guardian runs tests: the most expensive tests carry their largest peak across runs.
  auto history = run({"runs", "tests"}, 30s);
  ASSERT_EQ(history.exit_code, 0) << history.describe();
  const auto at = history.out.find("costs/test_costs.py::test_allocates_300mb  ");
  ASSERT_NE(at, std::string::npos) << history.out;
  const std::string line = history.out.substr(at, history.out.find('\n', at) - at);
  EXPECT_NE(line.find(" · peak 3"), std::string::npos) << line;
}

// Under xdist every worker reports its own tests with its own pid: each is measured in its worker.
TEST_F(AdaptersPytestResources, XdistWorkersAreMeasuredEachInTheirOwnProcess) {
  auto result = run(suite_run({"-n2"}), 60s);
  ASSERT_EQ(result.exit_code, 0) << result.describe();
  auto tests = report()["tests"];
  expect_heaviest(tests);
  EXPECT_TRUE(tests["heaviest"][0].contains("worker")) << tests["heaviest"].dump(2);
}

// A RESOURCE_CRITICAL alert names the test that was running, like a ceiling kill does.
TEST_F(AdaptersPytestResources, ResourceCriticalNamesTheRunningTest) {
  std::ofstream(dir_ / "guardian.toml") << "[thresholds]\nmemory_warning = \"10%\"\nmemory_critical = \"20%\"\n";
  const fs::path holds = write_suite_file("holds/test_holds.py",
      "import time\n"
         "def test_small(): pass\n"
         "def test_holds_300mb():\n"
         "    block = bytearray(b'\\x01') * (300 * 2**20)\n"
         "    time.sleep(4)\n"
         "    assert block[0] == 1\n");
  auto result = run({"run", "--memory", "1G", "--report", report_copy_path().string(), "--", "/usr/bin/python3", "-m",
                     "pytest", "-q", "-p", "no:cacheprovider", holds.string()},
                    60s);
  ASSERT_EQ(result.exit_code, 0) << result.describe();
  auto criticals = alerts_of_type("RESOURCE_CRITICAL");
  ASSERT_FALSE(criticals.empty()) << result.describe();
  EXPECT_EQ(criticals[0]["subject"], "memory") << criticals[0].dump(2);
  EXPECT_EQ(criticals[0]["context"]["running_test"]["nodeid"], "holds/test_holds.py::test_holds_300mb")
      << criticals[0].dump(2);
  EXPECT_NE(criticals[0]["message"].get<std::string>().find("while running holds/test_holds.py::test_holds_300mb"),
            std::string::npos)
      << criticals[0].dump(2);
}

}  // namespace
}  // namespace guardian::testing
