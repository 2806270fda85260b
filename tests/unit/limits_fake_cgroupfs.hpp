// A fake cgroupfs for the limits unit tests: a temp directory whose files hold real kernel
// contents (fixtures/limits/), so the code under test reads and writes the same text it
// does on a real cgroup2 mount.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace guardian::limits::testing {

inline std::string fixture(const std::string& name) {
  std::ifstream in(std::string(LIMITS_FIXTURE_DIR) + "/" + name);
  EXPECT_TRUE(in.good()) << "missing fixture " << name;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class FakeCgroupFs {
 public:
  FakeCgroupFs() {
    std::string pattern = (std::filesystem::temp_directory_path() / "guardian-limits-XXXXXX").string();
    root_ = ::mkdtemp(pattern.data());
  }
  ~FakeCgroupFs() {
    std::error_code ignored;
    std::filesystem::remove_all(root_, ignored);
  }
  FakeCgroupFs(const FakeCgroupFs&) = delete;
  FakeCgroupFs& operator=(const FakeCgroupFs&) = delete;

  const std::filesystem::path& root() const { return root_; }

  /// Writes `content` to root/dir/file, creating dir.
  void put(const std::string& dir, const std::string& file, const std::string& content) const {
    auto where = dir.empty() ? root_ : root_ / dir;
    std::filesystem::create_directories(where);
    std::ofstream(where / file) << content;
  }
  /// A cgroup directory with the files every cgroup has, as a fresh child of the VM's root.
  void cgroup(const std::string& dir, const std::string& controllers = "cpu memory pids\n") const {
    put(dir, "cgroup.controllers", controllers);
    put(dir, "cgroup.subtree_control", "");
    put(dir, "cgroup.procs", "");
    put(dir, "cgroup.events", fixture("cgroup.events.empty"));
    put(dir, "cgroup.kill", "");
    put(dir, "memory.max", "max\n");
    put(dir, "memory.high", "max\n");
    put(dir, "memory.swap.max", "max\n");
    put(dir, "memory.oom.group", "0\n");
    put(dir, "memory.events", fixture("memory.events.fresh"));
    put(dir, "cpu.max", "max 100000\n");
    put(dir, "pids.max", "max\n");
  }
  std::string get(const std::string& dir, const std::string& file) const {
    std::ifstream in((dir.empty() ? root_ : root_ / dir) / file);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

 private:
  std::filesystem::path root_;
};

}  // namespace guardian::limits::testing
