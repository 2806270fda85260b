// The monitor on the cgroup v2 backend, on a real kernel: boots the bare cgroup v2 VM (bare/bare-vm) once, runs
// monitor_vm_scenario.sh there, and checks that guardian's snapshots of a static tree say
// what the tree's cgroup files say (processes, threads, memory, ceilings, the tree's PSI).
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "vm_runner.hpp"

namespace {

using Json = nlohmann::json;

class MonitorVm : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto vm = guardian::testing::run_scenario_in_vm(SCENARIO, 600);
    ASSERT_NE(vm.status, -1) << "bare-vm could not be started";
    raw_ = std::move(vm.output);
    std::istringstream in(raw_);
    std::string line, part;
    while (std::getline(in, line)) {
      if (line.rfind("@@ ", 0) == 0) {
        part = line.substr(3);
        continue;
      }
      if (!part.empty()) parts_[part] += line + "\n";
    }
  }

  static std::string part(const std::string& name) {
    std::string text = parts_.count(name) ? parts_.at(name) : "";
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    return text;
  }
  static std::uint64_t number(const std::string& name) { return std::stoull("0" + part(name)); }

  // The newest monitor.report snapshot.
  static Json last_snapshot() {
    Json found;
    std::istringstream in(part("events"));
    for (std::string line; std::getline(in, line);) {
      auto event = Json::parse(line, nullptr, false);
      if (!event.is_discarded() && event.value("event", "") == "monitor.report") found = event["context"]["snapshot"];
    }
    return found;
  }

  static inline std::string raw_;
  static inline std::map<std::string, std::string> parts_;
};

TEST_F(MonitorVm, SnapshotMatchesTheTreesCgroup) {
  ASSERT_FALSE(part("cgroup_dir").empty()) << "no payload cgroup found; VM output:\n" << raw_;
  Json snapshot = last_snapshot();
  ASSERT_TRUE(snapshot.is_object()) << raw_;
  const Json& tree = snapshot["tree"];
  EXPECT_EQ(number("procs"), 13u);
  EXPECT_EQ(tree["processes"], number("procs"));
  EXPECT_EQ(tree["threads"], number("threads"));
  double memory = tree["memory_bytes"].get<double>();
  double current = static_cast<double>(number("memory_current"));
  EXPECT_NEAR(memory, current, current * 0.1) << "a static tree: the snapshot and memory.current agree";
  EXPECT_EQ(tree["ceiling_source"], "limiter");
  EXPECT_EQ(tree["memory_ceiling_bytes"], number("memory_max"));
  EXPECT_EQ(number("memory_max"), 256u << 20);
  EXPECT_DOUBLE_EQ(tree["cpu_ceiling_cores"].get<double>(), 1.0);
  std::istringstream cpu_max(part("cpu_max"));  // "100000 100000": quota and period
  double quota = 0, period = 1;
  cpu_max >> quota >> period;
  EXPECT_DOUBLE_EQ(quota / period, tree["cpu_ceiling_cores"].get<double>()) << part("cpu_max");
  EXPECT_EQ(snapshot["psi"]["scope"], "tree") << "the tree's own cpu/memory/io.pressure";
  EXPECT_TRUE(snapshot["psi"]["memory"]["some_avg10"].is_number());
}

TEST_F(MonitorVm, RunEndsCleanlyWithAMonitorSection) {
  EXPECT_EQ(part("exit"), "143") << part("stderr");
  Json report = Json::parse(part("report"), nullptr, false);
  ASSERT_TRUE(report.is_object()) << raw_;
  EXPECT_EQ(report["monitor"]["final_level"], "CRITICAL");
  EXPECT_GE(report["monitor"]["checks"].get<int>(), 5);
  EXPECT_EQ(report["resources"]["processes_observed"], 13);
}

}  // namespace
