// CgroupUsageReader on a fake cgroupfs holding real kernel file contents: what one check
// reads, re-read through the same open files as the counters change.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "guardian/limits/cgroup_usage_reader.hpp"
#include "limits_fake_cgroupfs.hpp"

namespace guardian::limits {
namespace {

using testing::FakeCgroupFs;
using testing::fixture;

std::string pid_lines(int first, int count) {
  std::string out;
  for (int i = 0; i < count; ++i) out += std::to_string(first + i) + "\n";
  return out;
}

TEST(CgroupUsageReader, ReadsEveryCounterOfTheUnitAndTheTreeNode) {
  FakeCgroupFs fake;
  fake.cgroup("run");
  fake.cgroup("run/main");
  fake.put("run", "cpu.stat", fixture("cpu.stat.throttled"));
  fake.put("run/main", "cpu.stat", "usage_usec 5000\nuser_usec 4000\nsystem_usec 1000\n");
  fake.put("run/main", "memory.current", "1048576\n");
  fake.put("run/main", "memory.peak", fixture("memory.peak.oom"));
  fake.put("run/main", "cgroup.procs", "101\n102\n");
  fake.put("run/main", "pids.current", "7\n");
  fake.put("run/main", "cgroup.stat", "nr_descendants 0\nnr_dying_descendants 0\n");
  fake.put("run/main", "cpu.pressure", fixture("cpu.pressure.busy"));
  fake.put("run/main", "memory.pressure", fixture("memory.pressure.idle"));
  CgroupFs fs(fake.root());
  CgroupUsageReader reader(fs, "run/main", "run", true, true);

  TreeUsage usage;
  EXPECT_TRUE(reader.read(usage));
  EXPECT_EQ(usage.cpu_usec, 5000u);
  EXPECT_EQ(usage.cpu_nr_throttled, 20u);  // from the tree node, where cpu.max is
  EXPECT_EQ(usage.memory_bytes, 1048576u);
  EXPECT_EQ(usage.memory_peak_bytes, std::optional<std::uint64_t>(16777216));
  EXPECT_EQ(usage.processes, 2u);
  EXPECT_EQ(usage.threads, 7u);
  ASSERT_TRUE(usage.cpu_pressure);
  EXPECT_GT(usage.cpu_pressure->some_avg10.value_or(0), 0.0);
  EXPECT_TRUE(usage.memory_pressure);
  EXPECT_FALSE(usage.io_pressure) << "no io.pressure in this cgroup";

  // The next check sees the new values through the same files; a long pid list is read whole.
  fake.put("run/main", "memory.current", "2097152\n");
  fake.put("run/main", "cgroup.procs", pid_lines(100000, 3000));
  fake.put("run/main", "io.pressure", fixture("memory.pressure.idle"));
  TreeUsage next;
  EXPECT_TRUE(reader.read(next));
  EXPECT_EQ(next.memory_bytes, 2097152u);
  EXPECT_EQ(next.processes, 3000u);
  EXPECT_TRUE(next.io_pressure) << "a file that appears is opened at the next check";
}

TEST(CgroupUsageReader, WithoutPidsCountsThreadsAndSaysWhenCgroupsLieBelow) {
  FakeCgroupFs fake;
  fake.cgroup("run", "cpu\n");
  fake.cgroup("run/main", "cpu\n");
  fake.put("run/main", "cpu.stat", fixture("cpu.stat.nocpu"));
  fake.put("run/main", "cgroup.threads", "101\n102\n103\n");
  fake.put("run/main", "cgroup.stat", "nr_descendants 1\nnr_dying_descendants 0\n");
  CgroupFs fs(fake.root());
  CgroupUsageReader reader(fs, "run/main", "run", false, false);
  TreeUsage usage;
  EXPECT_FALSE(reader.read(usage)) << "the caller must count the processes of the cgroup below";
  EXPECT_EQ(usage.threads, 3u);
  EXPECT_EQ(usage.memory_bytes, 0u);
  EXPECT_FALSE(usage.memory_peak_bytes);
}

}  // namespace
}  // namespace guardian::limits
