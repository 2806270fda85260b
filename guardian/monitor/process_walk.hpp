#pragma once
// ProcessWalker: the per-process view of the tree that the protector needs (and, when
// asked, open files and IO for the snapshot), read from /proc only when the monitor
// decides a walk is worth it: one stat read per process, plus the fd directory and the io
// file when files and IO are wanted and the process ran since they were read.
#include <functional>
#include <map>
#include <utility>
#include <vector>

#include "guardian/monitor/host_stats.hpp"
#include "guardian/monitor/resource_protector.hpp"
#include "guardian/process/tree_membership.hpp"

namespace guardian::monitor {

struct TreeWalk {
  std::vector<ProcessUse> processes;
  std::uint64_t open_fds = 0;
  std::uint64_t io_read_bytes = 0;   // of the live processes
  std::uint64_t io_write_bytes = 0;
  bool files_and_io = false;         // whether open_fds and io were read
};

class ProcessWalker {
 public:
  /// Whether a process is one guardian started itself (never touched by the protector).
  using IsRoot = std::function<bool(pid_t)>;
  /// Without `is_root`, the membership's root is the one.
  ProcessWalker(process::TreeMembership members, std::filesystem::path proc_root = "/proc", IsRoot is_root = nullptr);

  TreeWalk walk(SteadyTime now, double cpu_ceiling_cores, std::uint64_t memory_ceiling_bytes, bool files_and_io);

  const HostReader& host() const { return host_; }
  process::TreeMembership& members() { return members_; }
  /// How many processes' open files and IO were answered from an earlier read (for tests).
  std::uint64_t reused_files() const { return reused_files_; }

 private:
  process::TreeMembership members_;
  HostReader host_;
  IsRoot is_root_;
  std::map<std::pair<pid_t, std::uint64_t>, std::uint64_t> last_cpu_usec_;
  // Open files and IO as last read, per process (pid, start time). A single-threaded
  // process that has not run since (its schedstat run time has not moved) cannot have
  // opened, closed, read or written anything: they are reused, at most kMaxFilesReuses
  // times in a row, as ProcFileCache reuses its stat.
  struct FilesAndIo {
    std::uint64_t run_time_ns = 0;
    std::uint64_t open_fds = 0;
    std::optional<ProcIo> io;
    unsigned reuses = 0;
  };
  FilesAndIo files_of(const process::ProcStat& st, const std::pair<pid_t, std::uint64_t>& key);
  static constexpr unsigned kMaxFilesReuses = process::ProcFileCache::kMaxReuses;
  std::map<std::pair<pid_t, std::uint64_t>, FilesAndIo> last_files_;
  std::uint64_t reused_files_ = 0;

  std::optional<SteadyTime> last_walk_;
};

}  // namespace guardian::monitor
