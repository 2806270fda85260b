// Snapshot contents against what /proc says about the same processes at the same moment:
// a sleeping fork tree does not change between the two readings, so processes, threads
// and open files must match exactly and memory closely.
#include <fstream>

#include "monitor_support.hpp"

namespace guardian::testing {
namespace {

using namespace monitor;

class MonitorSnapshotTest : public GuardianTest {};

std::uint64_t mem_total_bytes() {
  std::ifstream in("/proc/meminfo");
  std::string name;
  std::uint64_t kib = 0;
  in >> name >> kib;
  return kib * 1024;
}

TEST_F(MonitorSnapshotTest, SnapshotMatchesProc) {
  write_config(dir_, "");
  // root + 3 children + 9 grandchildren = 13 processes, all sleeping.
  auto guardian = start(run_target_reported({"--level", "critical"}, {"fork-tree", "2", "3", "8", "8"}));
  ASSERT_TRUE(guardian->wait_for_stdout("ready", 15s)) << guardian->out();
  // A report taken after the tree was complete (each report carries a snapshot with open files).
  auto complete = [](const Json& e) {
    return e.value("event", "") == "monitor.report" && e["context"]["snapshot"]["tree"]["processes"] == 13;
  };
  ASSERT_TRUE(wait_for_event(dir_, complete, 10s));
  ProcTotals proc = proc_totals(marker_, target_bin());
  // The newest complete report (the tree is static, so any of them describes it).
  Json snapshot;
  for (const auto& e : events_so_far(dir_))
    if (complete(e)) snapshot = e["context"]["snapshot"];
  const Json& tree = snapshot["tree"];
  EXPECT_EQ(proc.processes, 13u);
  EXPECT_EQ(tree["processes"], proc.processes);
  EXPECT_EQ(tree["threads"], proc.threads);
  EXPECT_EQ(tree["open_fds"], proc.open_fds);
  double memory = tree["memory_bytes"].get<double>();
  EXPECT_NEAR(memory, double(proc.rss_bytes), double(proc.rss_bytes) * 0.1);
  EXPECT_EQ(snapshot["host"]["memory_total_bytes"], mem_total_bytes());
  EXPECT_EQ(snapshot["level"], "CRITICAL");
  ASSERT_EQ(snapshot["disks"].size(), 1u);
  EXPECT_EQ(snapshot["disks"][0]["path"], dir_.string());
  EXPECT_TRUE(snapshot["tree"]["io_read_bytes"].is_number());
  EXPECT_TRUE(snapshot["psi"]["cpu"]["some_avg10"].is_number()) << "this kernel has PSI";
  guardian->send_signal(SIGTERM);
  RunResult result = guardian->wait(30s);
  EXPECT_EQ(result.exit_code, 143) << result.describe();
  // The report keeps the last snapshot.
  EXPECT_TRUE(report()["monitor"]["last_snapshot"]["tree"].is_object());
  EXPECT_EQ(report()["resources"]["processes_observed"], 13) << "the monitor's peak feeds the report";
}

}  // namespace
}  // namespace guardian::testing
