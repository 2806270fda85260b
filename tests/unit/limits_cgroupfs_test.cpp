// CgroupFs and the per-controller files on a fake cgroupfs: what is written where, and how
// errors name the file and the operation.
#include <gtest/gtest.h>

#include "guardian/limits/cgroup_cpu.hpp"
#include "guardian/limits/cgroup_fs.hpp"
#include "guardian/limits/cgroup_memory.hpp"
#include "guardian/limits/cgroup_pids.hpp"
#include "limits_fake_cgroupfs.hpp"

namespace guardian::limits {
namespace {

using testing::FakeCgroupFs;
using testing::fixture;

TEST(LimitsCgroupFs, PathsJoinRelativeDirectories) {
  CgroupFs fs("/sys/fs/cgroup");
  EXPECT_EQ(fs.path("", "cgroup.procs"), "/sys/fs/cgroup/cgroup.procs");
  EXPECT_EQ(fs.path("/a/b/", "memory.max"), "/sys/fs/cgroup/a/b/memory.max");
  EXPECT_EQ(fs.path("a"), "/sys/fs/cgroup/a");
  EXPECT_EQ(join_dir("", "guardian-1"), "guardian-1");
  EXPECT_EQ(join_dir("/user.slice", "guardian-1"), "user.slice/guardian-1");
}

TEST(LimitsCgroupFs, ErrorsNameTheOperationTheFileAndTheReason) {
  FakeCgroupFs fake;
  CgroupFs fs(fake.root());
  auto error = fs.write("missing", "cpu.max", "max 100000");
  ASSERT_TRUE(error);
  EXPECT_EQ(error->code, std::errc::no_such_file_or_directory);
  EXPECT_EQ(error->message, "writing 'max 100000' to " + fake.root().string() +
                                "/missing/cpu.max: No such file or directory");
  EXPECT_FALSE(error->permission_denied());
  auto read = fs.read("missing", "cgroup.events");
  ASSERT_FALSE(read);
  EXPECT_NE(read.error().message.find("reading " + fake.root().string() + "/missing/cgroup.events"),
            std::string::npos);
}

TEST(LimitsCgroupFs, PermissionErrorsAreRecognised) {
  Error denied{std::make_error_code(std::errc::permission_denied), ""};
  Error read_only{std::make_error_code(std::errc::read_only_file_system), ""};
  Error busy{std::make_error_code(std::errc::device_or_resource_busy), ""};
  EXPECT_TRUE(denied.permission_denied());
  EXPECT_TRUE(read_only.permission_denied());
  EXPECT_FALSE(busy.permission_denied());
}

TEST(LimitsCgroupFs, MemorySettingsGoToTheirFiles) {
  FakeCgroupFs fake;
  fake.cgroup("run/main");
  CgroupFs fs(fake.root());
  ASSERT_FALSE(memory::apply(fs, "run/main", memory::Settings{512u << 20, 460u << 20, 0, true}));
  EXPECT_EQ(fake.get("run/main", "memory.max"), std::to_string(512u << 20));
  EXPECT_EQ(fake.get("run/main", "memory.high"), std::to_string(460u << 20));
  EXPECT_EQ(fake.get("run/main", "memory.swap.max"), "0");
  EXPECT_EQ(fake.get("run/main", "memory.oom.group"), "1");
  ASSERT_FALSE(memory::apply(fs, "run/main", memory::Settings{}));
  EXPECT_EQ(fake.get("run/main", "memory.max"), "max");
}

TEST(LimitsCgroupFs, SwapIsSkippedWithoutSwapAccounting) {
  FakeCgroupFs fake;
  fake.cgroup("u");
  std::filesystem::remove(fake.root() / "u" / "memory.swap.max");
  CgroupFs fs(fake.root());
  EXPECT_FALSE(memory::apply(fs, "u", memory::Settings{1u << 30, std::nullopt, 0, true}));
  EXPECT_EQ(fake.get("u", "memory.max"), std::to_string(1u << 30));
}

TEST(LimitsCgroupFs, CpuAndPidsCeilings) {
  FakeCgroupFs fake;
  fake.cgroup("u");
  CgroupFs fs(fake.root());
  ASSERT_FALSE(cpu::set_max(fs, "u", 1.5));
  EXPECT_EQ(fake.get("u", "cpu.max"), "150000 100000");
  ASSERT_FALSE(pids::set_max(fs, "u", 64));
  EXPECT_EQ(fake.get("u", "pids.max"), "64");
  ASSERT_FALSE(pids::set_max(fs, "u", std::nullopt));
  EXPECT_EQ(fake.get("u", "pids.max"), "max");
}

TEST(LimitsCgroupFs, ReadsStatsOfRealKernelFiles) {
  FakeCgroupFs fake;
  fake.cgroup("u");
  fake.put("u", "cpu.stat", fixture("cpu.stat.throttled"));
  fake.put("u", "memory.events", fixture("memory.events.oom"));
  fake.put("u", "memory.peak", fixture("memory.peak.oom"));
  fake.put("u", "pids.events", fixture("pids.events.refused"));
  fake.put("u", "pids.peak", fixture("pids.peak.full"));
  fake.put("u", "pids.current", "3\n");
  CgroupFs fs(fake.root());
  EXPECT_EQ(cpu::read_stat(fs, "u")->nr_throttled, 20u);
  EXPECT_EQ(memory::read_events(fs, "u")->oom_kill, 2u);
  EXPECT_EQ(memory::read_peak(fs, "u"), std::optional<std::uint64_t>(16777216));
  auto pid_stat = pids::read_stat(fs, "u");
  EXPECT_EQ(pid_stat.current, 3u);
  EXPECT_EQ(pid_stat.peak, std::optional<std::uint64_t>(8));
  EXPECT_EQ(pid_stat.refused_forks, 4u);
  // memory.peak appeared in Linux 5.19: older kernels simply have no peak.
  std::filesystem::remove(fake.root() / "u" / "memory.peak");
  EXPECT_FALSE(memory::read_peak(fs, "u").has_value());
}

}  // namespace
}  // namespace guardian::limits
