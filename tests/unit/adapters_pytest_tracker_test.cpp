// TestRunTracker (pure logic): events in, running test / counts / slowest / failures out.
#include <gtest/gtest.h>

#include <algorithm>

#include "adapters/pytest/pytest_adapter.hpp"
#include "adapters/pytest/test_run_tracker.hpp"

namespace guardian::adapters::pytest {
namespace {

using Json = nlohmann::json;
using namespace std::chrono_literals;

TEST(PytestCommand, NamesPytestWhateverWayItIsStarted) {
  EXPECT_TRUE(names_pytest({"pytest", "-q"}));
  EXPECT_TRUE(names_pytest({"/usr/bin/python3", "-m", "pytest"}));
  EXPECT_TRUE(names_pytest({"/home/u/.venv/bin/py.test"}));
  EXPECT_FALSE(names_pytest({"uvicorn", "app:app"}));
  EXPECT_FALSE(names_pytest({"/opt/guardian-test/guardian-target", "alloc", "400"}));
}

Json finish(int pid, const std::string& nodeid, const std::string& outcome, double duration_s) {
  return {{"event", "test_finish"}, {"pid", pid}, {"nodeid", nodeid}, {"outcome", outcome},
          {"duration_s", duration_s}, {"text", outcome == "passed" ? Json() : Json("boom")}, {"worker", nullptr}};
}

TEST(AdaptersPytestTracker, RunningTestIsTheOldestStartedAndClearsOnFinish) {
  TestRunTracker tracker;
  auto t0 = TestRunTracker::Clock::time_point{} + 100s;
  tracker.consume({{"event", "test_start"}, {"pid", 11}, {"nodeid", "a::x"}, {"worker", "gw0"}}, t0);
  tracker.consume({{"event", "test_start"}, {"pid", 12}, {"nodeid", "a::y"}, {"worker", "gw1"}}, t0 + 1s);
  auto running = tracker.running_test(t0 + 3s);
  EXPECT_EQ(running["nodeid"], "a::x");
  EXPECT_EQ(running["pid"], 11);
  EXPECT_EQ(running["worker"], "gw0");
  EXPECT_EQ(running["running_ms"], 3000);
  tracker.consume(finish(11, "a::x", "passed", 0.5), t0 + 4s);
  EXPECT_EQ(tracker.running_test(t0 + 4s)["nodeid"], "a::y");
  tracker.consume(finish(12, "a::y", "passed", 0.5), t0 + 5s);
  EXPECT_TRUE(tracker.running_test(t0 + 5s).is_null());
}

TEST(AdaptersPytestTracker, FailuresAreReportedAndCounted) {
  TestRunTracker tracker;
  EXPECT_FALSE(tracker.consume(finish(1, "t::ok", "passed", 0.1)).failure);
  auto effect = tracker.consume(finish(1, "t::bad", "failed", 0.2));
  ASSERT_TRUE(effect.failure);
  EXPECT_EQ(effect.failure->nodeid, "t::bad");
  EXPECT_EQ(effect.failure->text, "boom");
  EXPECT_TRUE(tracker.consume(finish(1, "t::err", "error", 0.0)).failure);
  EXPECT_FALSE(tracker.consume(finish(1, "t::skip", "skipped", 0.0)).failure);
  EXPECT_TRUE(tracker.consume({{"event", "nonsense"}}).ignored);
  EXPECT_TRUE(tracker.consume(Json::array()).ignored);
  auto section = tracker.report_section();
  EXPECT_EQ(section["total"], 4);
  EXPECT_EQ(section["counts"]["passed"], 1);
  EXPECT_EQ(section["counts"]["failed"], 1);
  EXPECT_EQ(section["counts"]["error"], 1);
  EXPECT_EQ(section["counts"]["skipped"], 1);
  EXPECT_EQ(section["failures"].size(), 2u);
  EXPECT_EQ(tracker.failures(), 2u);
}

TEST(AdaptersPytestTracker, SlowestKeepsTheTenLongestInOrder) {
  TestRunTracker tracker;
  for (int i = 0; i < 15; ++i) tracker.consume(finish(1, "t::" + std::to_string(i), "passed", i * 0.1));
  auto slowest = tracker.report_section()["slowest"];
  ASSERT_EQ(slowest.size(), 10u);
  EXPECT_EQ(slowest[0]["nodeid"], "t::14");
  EXPECT_EQ(slowest[9]["nodeid"], "t::5");
}

TEST(AdaptersPytestEnvironment, AppendsToExistingValuesAndSetsTheSocket) {
  std::vector<std::string> env{"PATH=/bin", "PYTHONPATH=/mine", "PYTEST_ADDOPTS=-x", "GUARDIAN_EVENTS_SOCKET=/old"};
  add_plugin_environment(env, "/run/ev.sock", "/plugins/pytest");
  auto has = [&](const std::string& entry) { return std::find(env.begin(), env.end(), entry) != env.end(); };
  EXPECT_TRUE(has("PYTHONPATH=/plugins/pytest:/mine"));
  EXPECT_TRUE(has("PYTEST_ADDOPTS=-x -p guardian_pytest"));
  EXPECT_TRUE(has("GUARDIAN_EVENTS_SOCKET=/run/ev.sock"));
  EXPECT_FALSE(has("GUARDIAN_EVENTS_SOCKET=/old"));
  std::vector<std::string> bare{"PATH=/bin"};
  add_plugin_environment(bare, "/s", "/p");
  EXPECT_EQ(bare, (std::vector<std::string>{"PATH=/bin", "PYTHONPATH=/p", "PYTEST_ADDOPTS=-p guardian_pytest",
                                            "GUARDIAN_EVENTS_SOCKET=/s"}));
}

}  // namespace
}  // namespace guardian::adapters::pytest
