#pragma once
// ProcessWalker: the per-process view of the tree that the protector needs (and, when
// asked, open files and IO for the snapshot), read from /proc only when the monitor
// decides a walk is worth it: one stat read per process, plus the fd directory and the io
// file when files and IO are wanted.
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

 private:
  process::TreeMembership members_;
  HostReader host_;
  IsRoot is_root_;
  std::map<std::pair<pid_t, std::uint64_t>, std::uint64_t> last_cpu_usec_;
  std::optional<SteadyTime> last_walk_;
};

}  // namespace guardian::monitor
