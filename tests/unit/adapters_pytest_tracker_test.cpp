// TestRunTracker (pure logic): events in, running test / counts / slowest / failures out.
#include <gtest/gtest.h>

#include <algorithm>

#include <unistd.h>

#include <memory>

#include "adapters/pytest/pytest_adapter.hpp"
#include "adapters/pytest/test_resources.hpp"
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

TestUsage usage(double cpu_ms, std::uint64_t peak_mib) { return TestUsage{cpu_ms, peak_mib << 20, true}; }

// Issue 16 item 7: "heaviest" by resident peak (then CPU), "heaviest_cpu" by CPU (then peak);
// unmeasured tests are in neither; ties keep the run's order; at most 10.
TEST(AdaptersPytestTracker, HeaviestListsOrderByPeakAndByCpu) {
  TestRunTracker tracker;
  tracker.consume(finish(1, "t::tiny", "passed", 0.01), {}, usage(3, 20));
  tracker.consume(finish(1, "t::spin", "passed", 2.0), {}, usage(1900, 25));
  tracker.consume(finish(1, "t::alloc", "passed", 0.3), {}, usage(250, 330));
  tracker.consume(finish(1, "t::unmeasured", "passed", 5.0));
  tracker.consume(finish(1, "t::same_peak_more_cpu", "failed", 0.1), {}, usage(40, 20));
  for (int i = 0; i < 10; ++i) tracker.consume(finish(1, "t::filler" + std::to_string(i), "passed", 0), {}, usage(1, 1));
  auto section = tracker.report_section();
  auto heaviest = section["heaviest"];
  ASSERT_EQ(heaviest.size(), 10u) << section.dump(2);
  EXPECT_EQ(heaviest[0]["nodeid"], "t::alloc");
  EXPECT_EQ(heaviest[0]["peak_memory_bytes"], 330u << 20);
  EXPECT_EQ(heaviest[0]["cpu_ms"], 250);
  EXPECT_EQ(heaviest[0]["duration_ms"], 300);
  EXPECT_EQ(heaviest[1]["nodeid"], "t::spin");
  EXPECT_EQ(heaviest[2]["nodeid"], "t::same_peak_more_cpu");  // 20 MiB like tiny, more CPU
  EXPECT_EQ(heaviest[3]["nodeid"], "t::tiny");
  EXPECT_EQ(heaviest[4]["nodeid"], "t::filler0");  // equal costs: the order they ran in
  auto heaviest_cpu = section["heaviest_cpu"];
  ASSERT_EQ(heaviest_cpu.size(), 10u);
  EXPECT_EQ(heaviest_cpu[0]["nodeid"], "t::spin");
  EXPECT_EQ(heaviest_cpu[1]["nodeid"], "t::alloc");
  EXPECT_EQ(heaviest_cpu[2]["nodeid"], "t::same_peak_more_cpu");
  for (const auto& list : {heaviest, heaviest_cpu})
    for (const auto& entry : list) EXPECT_NE(entry["nodeid"], "t::unmeasured");
  // Every result carries its figures when measured (guardian runs tests reads them).
  for (const auto& result : section["results"])
    EXPECT_EQ(result.contains("cpu_ms"), result["nodeid"] != "t::unmeasured") << result.dump();
}

// What the plugins get while the run goes on (the dashboard's tests panel): the report's
// section without the per-test results, which grow with the suite.
TEST(AdaptersPytestTracker, LiveSectionIsTheReportSectionWithoutResults) {
  TestRunTracker tracker;
  tracker.consume(finish(1, "t::light", "passed", 0.01), {}, usage(3, 20));
  tracker.consume(finish(1, "t::alloc", "failed", 0.3), {}, usage(250, 330));
  auto live = tracker.live_section();
  auto report = tracker.report_section();
  EXPECT_FALSE(live.contains("results"));
  report.erase("results");
  EXPECT_EQ(live, report);
  ASSERT_EQ(live["heaviest"].size(), 2u);
  EXPECT_EQ(live["heaviest"][0]["nodeid"], "t::alloc");
  EXPECT_EQ(live["failures"].size(), 1u);
}

// Sent a few times a second: its size must not grow with the number of failures.
TEST(AdaptersPytestTracker, LiveSectionKeepsTheFirstHundredFailures) {
  TestRunTracker tracker;
  for (int i = 0; i < 120; ++i) tracker.consume(finish(1, "t::broken" + std::to_string(i), "failed", 0.01));
  auto live = tracker.live_section();
  ASSERT_EQ(live["failures"].size(), TestRunTracker::kLiveFailures);
  EXPECT_EQ(live["failures"][0]["nodeid"], "t::broken0");
  EXPECT_EQ(live["counts"]["failed"], 120);
  EXPECT_EQ(tracker.report_section()["failures"].size(), 120u);  // the report keeps them all
}

TEST(AdaptersPytestResources, UsageBetweenTwoReadings) {
  // Peaks reset at the start: the end's VmHWM is the test's, even after the memory was freed.
  auto used = usage_between({1'000'000, 500u << 20, 30u << 20, true}, {1'250'000, 330u << 20, 31u << 20, false});
  EXPECT_DOUBLE_EQ(used.cpu_ms, 250);
  EXPECT_EQ(used.peak_memory_bytes, 330u << 20);
  EXPECT_TRUE(used.peak_exact);
  // Reset refused, lifetime peak rose during the test: still the test's peak.
  used = usage_between({0, 100u << 20, 30u << 20, false}, {0, 330u << 20, 31u << 20, false});
  EXPECT_EQ(used.peak_memory_bytes, 330u << 20);
  EXPECT_TRUE(used.peak_exact);
  // Reset refused, under an earlier peak: the larger resident size seen, marked approximate.
  used = usage_between({0, 400u << 20, 30u << 20, false}, {0, 400u << 20, 45u << 20, false});
  EXPECT_EQ(used.peak_memory_bytes, 45u << 20);
  EXPECT_FALSE(used.peak_exact);
  // CPU never goes negative (a member reaped outside the tree takes its time with it).
  EXPECT_DOUBLE_EQ(usage_between({5'000, 0, 0, true}, {2'000, 0, 0, false}).cpu_ms, 0);
}

// The real kernel: this process allocates 64 MiB, touches it and frees it between started()
// and finished(); the reset peak still shows it, and a pid without the run's marker is left alone.
TEST(AdaptersPytestResources, MeterSeesAFreedAllocationThroughTheResetPeak) {
  TestResourceMeter meter;
  meter.started(::getpid());
  {
    constexpr std::size_t kSize = 64u << 20;
    std::unique_ptr<char[]> block(new char[kSize]);
    volatile char* pages = block.get();
    for (std::size_t i = 0; i < kSize; i += 4096) pages[i] = 1;
  }
  auto used = meter.finished(::getpid());
  ASSERT_TRUE(used);
  EXPECT_GE(used->peak_memory_bytes, 64u << 20);
  EXPECT_TRUE(used->peak_exact);
  EXPECT_FALSE(meter.finished(::getpid())) << "one measurement per start";

  TestResourceMeter marked("GUARDIAN_RUN_ID=not-this-process");
  marked.started(::getpid());
  EXPECT_FALSE(marked.finished(::getpid()));
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
