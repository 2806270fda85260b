// Disk clean-up on a real, full filesystem: a 4 MiB tmpfs mounted in the test directory
// and filled past the warning threshold; guardian deletes the contents of the configured
// disposable paths and nothing else, and says how much it freed.
#include <sys/mount.h>
#include <unistd.h>

#include <fstream>

#include "monitor_support.hpp"

namespace guardian::testing {
namespace {

using namespace monitor;

class MonitorDiskTest : public GuardianTest {
 protected:
  void SetUp() override {
    GuardianTest::SetUp();
    fs_ = dir_ / "fs";
    fs::create_directories(fs_);
    ASSERT_EQ(::mount("tmpfs", fs_.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "size=4m,mode=0755"), 0)
        << "mounting a 4 MiB tmpfs at " << fs_ << ": " << std::strerror(errno)
        << " (the disk clean-up test needs root to fill a real filesystem)";
    mounted_ = true;
  }
  void TearDown() override {
    if (mounted_) ::umount2(fs_.c_str(), MNT_DETACH);
    GuardianTest::TearDown();
  }
  void fill(const fs::path& path, std::size_t kib) {
    fs::create_directories(path.parent_path());
    std::ofstream out(path, std::ios::binary);
    std::string block(1024, 'g');
    for (std::size_t i = 0; i < kib; ++i) out << block;
  }

  fs::path fs_;
  bool mounted_ = false;
};

TEST_F(MonitorDiskTest, DeletesOnlyConfiguredDisposablePaths) {
  fill(fs_ / "keep.bin", 1200);
  fill(fs_ / "cache/a.bin", 1000);
  fill(fs_ / "cache/deep/b.bin", 800);
  fill(fs_ / "scratch.log", 400);
  fill(fs_ / "other-cache/c.bin", 100);  // looks disposable, is not configured
  fs::create_symlink(fs_ / "keep.bin", fs_ / "cache/link-to-keep");
  std::error_code error;
  auto before = fs::space(fs_, error);
  ASSERT_FALSE(error);
  ASSERT_GT(1.0 - double(before.available) / double(before.capacity), 0.85) << "the tmpfs must be past 80 %";

  write_config(dir_, R"(
[protector]
disposable = ["fs/cache", "fs/scratch.log", "fs/not-there"]
)", R"(disks = ["fs"])");
  RunResult result = run(run_target_reported({"--protect", "renice"}, {"sleep", "2"}), 30s);
  ASSERT_EQ(result.exit_code, 0) << result.describe();

  EXPECT_TRUE(fs::is_directory(fs_ / "cache"));
  EXPECT_TRUE(fs::is_empty(fs_ / "cache"));
  EXPECT_FALSE(fs::exists(fs_ / "scratch.log"));
  EXPECT_EQ(fs::file_size(fs_ / "keep.bin"), 1200u * 1024) << "the symlink's target survives";
  EXPECT_EQ(fs::file_size(fs_ / "other-cache/c.bin"), 100u * 1024);

  auto events = read_json_lines(only_run_dir(dir_) / "events.jsonl");
  auto cleaned = named(events, "disk.cleaned");
  ASSERT_EQ(cleaned.size(), 1u) << "one clean-up per rise past the threshold";
  EXPECT_GE(cleaned[0]["context"]["bytes_freed"].get<std::uint64_t>(), (1000u + 800 + 400) * 1024);
  EXPECT_EQ(cleaned[0]["context"]["entries_removed"], 5);  // a.bin, b.bin, deep, the link, scratch.log
  EXPECT_NE(result.err.find("freed 2.1 MiB"), std::string::npos) << result.err;
  Json section = report()["monitor"];
  EXPECT_EQ(section["protector"]["disk_cleanups"], 1);
  EXPECT_GE(section["protector"]["disk_bytes_freed"].get<std::uint64_t>(), (1000u + 800 + 400) * 1024);
  // The filesystem's condition was raised (a RESOURCE_WARNING or _CRITICAL alert) and cleared once freed.
  bool raised = false;
  for (const auto& e : named(events, "condition.raised"))
    raised = raised || e["context"]["metric"] == "disk:" + fs_.string();
  EXPECT_TRUE(raised);
  EXPECT_EQ(named(events, "condition.cleared").size(), 1u);
}

TEST_F(MonitorDiskTest, NothingIsDeletedWhenTheProtectorIsOff) {
  fill(fs_ / "cache/a.bin", 3500);
  write_config(dir_, R"(
[protector]
disposable = ["fs/cache"]
)", R"(disks = ["fs"])");
  RunResult result = run(run_target({"--protect", "off"}, {"sleep", "1.5"}), 30s);
  ASSERT_EQ(result.exit_code, 0) << result.describe();
  EXPECT_TRUE(fs::exists(fs_ / "cache/a.bin"));
  auto events = read_json_lines(only_run_dir(dir_) / "events.jsonl");
  EXPECT_TRUE(named(events, "disk.cleaned").empty());
  EXPECT_FALSE(named(events, "condition.raised").empty()) << "the full disk is still reported";
}

}  // namespace
}  // namespace guardian::testing
