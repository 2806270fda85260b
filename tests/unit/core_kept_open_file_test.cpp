// KeptOpenFile and read_from_start on real files and real /proc files.
#include <gtest/gtest.h>

#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <string>

#include "guardian/process/kept_open_file.hpp"

namespace guardian::process {
namespace {

namespace fs = std::filesystem;

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("kept-open-" + std::to_string(::getpid()));
  TempDir() { fs::create_directories(path); }
  ~TempDir() { fs::remove_all(path); }
};

TEST(KeptOpenFile, ReadsWhatTheFileSaysNowEveryTime) {
  TempDir dir;
  const auto file = dir.path / "value";
  KeptOpenFile kept(file.string());
  char buffer[64];
  std::string overflow;
  EXPECT_FALSE(kept.read(buffer, overflow)) << "no file yet";
  std::ofstream(file) << "1\n";
  ASSERT_TRUE(kept.read(buffer, overflow)) << "a file that appears is opened";
  EXPECT_EQ(*kept.read(buffer, overflow), "1\n");
  std::ofstream(file) << "22\n";  // same inode, new content
  EXPECT_EQ(*kept.read(buffer, overflow), "22\n");
  std::ofstream(file, std::ios::trunc).close();
  ASSERT_TRUE(kept.read(buffer, overflow));
  EXPECT_EQ(kept.read(buffer, overflow)->size(), 0u) << "empty is a valid content, not an error";
}

TEST(KeptOpenFile, AFileLongerThanTheBufferIsReadWholeOrOnlyItsStart) {
  TempDir dir;
  const auto file = dir.path / "pids";
  std::string pids;
  for (int pid = 100000; pid < 103000; ++pid) pids += std::to_string(pid) + "\n";
  std::ofstream(file) << pids;
  KeptOpenFile kept(file.string());
  char buffer[4096];
  std::string overflow;
  EXPECT_EQ(*kept.read(buffer, overflow), pids);
  EXPECT_EQ(*kept.read_start(buffer), pids.substr(0, sizeof buffer));
}

TEST(KeptOpenFile, ReadsAGeneratedProcFileAgain) {
  KeptOpenFile stat("/proc/self/stat");
  char buffer[1024];
  auto first = std::string(*stat.read_start(buffer));
  const std::clock_t start = std::clock();
  while (std::clock() - start < CLOCKS_PER_SEC / 20) {  // 50 ms of CPU: several clock ticks
  }
  auto second = std::string(*stat.read_start(buffer));
  EXPECT_NE(first, second) << "the kernel generates the text on every read: CPU time moved";
}

}  // namespace
}  // namespace guardian::process
