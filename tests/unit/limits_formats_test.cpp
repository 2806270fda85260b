// File formats of cgroup v2 and /proc/self/cgroup, on real kernel output (fixtures/limits).
#include <gtest/gtest.h>

#include "guardian/limits/cgroup_cpu.hpp"
#include "guardian/limits/cgroup_formats.hpp"
#include "guardian/limits/cgroup_memory.hpp"
#include "limits_fake_cgroupfs.hpp"

namespace guardian::limits {
namespace {

using testing::fixture;

TEST(LimitsFormats, ControllersListsEveryNameOnTheLine) {
  EXPECT_EQ(parse_controllers(fixture("cgroup.controllers.vm_root")),
            (std::vector<std::string>{"cpuset", "cpu", "io", "memory", "hugetlb", "pids", "rdma", "misc"}));
  EXPECT_EQ(parse_controllers(fixture("cgroup.controllers.hybrid_host")), (std::vector<std::string>{"hugetlb"}));
  EXPECT_TRUE(parse_controllers("\n").empty());
}

TEST(LimitsFormats, CgroupEventsTellWhetherTheTreeIsPopulated) {
  EXPECT_EQ(parse_flat_keyed(fixture("cgroup.events.populated")).at("populated"), 1u);
  EXPECT_EQ(parse_flat_keyed(fixture("cgroup.events.empty")).at("populated"), 0u);
  EXPECT_EQ(parse_flat_keyed(fixture("cgroup.events.empty")).at("frozen"), 0u);
}

TEST(LimitsFormats, MemoryEventsAfterAnOomGroupKill) {
  auto events = memory::parse_events(fixture("memory.events.oom"));
  EXPECT_EQ(events.oom, 1u);
  EXPECT_EQ(events.oom_kill, 2u);
  EXPECT_EQ(events.oom_group_kill, 1u);
  EXPECT_EQ(events.max, 35u);
  EXPECT_EQ(memory::parse_events(fixture("memory.events.fresh")).oom_kill, 0u);
}

TEST(LimitsFormats, CpuStatOfAThrottledSpinner) {
  auto stat = cpu::parse_stat(fixture("cpu.stat.throttled"));
  EXPECT_EQ(stat.usage_usec, 1087411u);
  EXPECT_EQ(stat.nr_periods, 21u);
  EXPECT_EQ(stat.nr_throttled, 20u);
  EXPECT_EQ(stat.throttled_usec, 2874952u);
  // Without the cpu controller only the usage lines exist.
  auto plain = cpu::parse_stat(fixture("cpu.stat.nocpu"));
  EXPECT_EQ(plain.usage_usec, 3820000u);
  EXPECT_EQ(plain.nr_throttled, 0u);
}

TEST(LimitsFormats, MaxValuesAreNumbersOrMax) {
  EXPECT_EQ(parse_max_value(fixture("memory.peak.oom"))->value, std::optional<std::uint64_t>(16777216));
  EXPECT_FALSE(parse_max_value("max\n")->value.has_value());
  EXPECT_FALSE(parse_max_value("12k").has_value());
  EXPECT_EQ(format_max_value(std::nullopt), "max");
  EXPECT_EQ(format_max_value(1024), "1024");
}

TEST(LimitsFormats, CpuMaxRoundTripsCores) {
  auto half = parse_cpu_max(fixture("cpu.max.half"));
  ASSERT_TRUE(half);
  EXPECT_DOUBLE_EQ(*half->cores(), 0.5);
  EXPECT_FALSE(parse_cpu_max("max 100000")->cores().has_value());
  EXPECT_EQ(format_cpu_max(1.5), "150000 100000");
  EXPECT_EQ(format_cpu_max(std::nullopt), "max 100000");
  EXPECT_EQ(format_cpu_max(0.001), "1000 100000");  // the kernel's minimum quota
  EXPECT_FALSE(parse_cpu_max("50000 0").has_value());
}

TEST(LimitsFormats, UnifiedPathComesFromTheZeroLine) {
  EXPECT_EQ(parse_unified_cgroup_path(fixture("proc_self_cgroup.root")), "/");
  EXPECT_EQ(parse_unified_cgroup_path(fixture("proc_self_cgroup.user_scope")),
            "/user.slice/user-1000.slice/user@1000.service/app.slice/guardian.scope");
  EXPECT_EQ(parse_unified_cgroup_path(fixture("proc_self_cgroup.hybrid")), "/");
  EXPECT_FALSE(parse_unified_cgroup_path("4:memory:/a\n").has_value());
}

TEST(LimitsFormats, V1PathsOfAHybridHost) {
  std::string text = "4:memory:/process_api/abc\n2:cpu,cpuacct:/x\n0::/\n";
  EXPECT_EQ(parse_v1_cgroup_path(text, "memory"), "/process_api/abc");
  EXPECT_EQ(parse_v1_cgroup_path(text, "cpu"), "/x");
  EXPECT_EQ(parse_v1_cgroup_path(text, "cpuacct"), "/x");
  EXPECT_FALSE(parse_v1_cgroup_path(text, "pids").has_value());
}

TEST(LimitsFormats, PidListsAndPressure) {
  EXPECT_EQ(parse_pid_list("142\n7\n"), (std::vector<pid_t>{142, 7}));
  auto busy = parse_pressure(fixture("cpu.pressure.busy"));
  ASSERT_TRUE(busy);
  EXPECT_DOUBLE_EQ(busy->some_avg10, 10.68);
  EXPECT_EQ(busy->some_total_usec, 1495926u);
  EXPECT_DOUBLE_EQ(busy->full_avg60, 1.93);
  EXPECT_DOUBLE_EQ(parse_pressure(fixture("memory.pressure.idle"))->some_avg10, 0.0);
  EXPECT_FALSE(parse_pressure("").has_value());
}

}  // namespace
}  // namespace guardian::limits
