#pragma once
// CgroupStrays: the processes of a command that left its cgroup. A process may write itself
// into any cgroup it can write (as root: anywhere, e.g. the root cgroup), and then neither
// cgroup.kill nor "populated 0" sees it. guardian still finds it through /proc — it is a
// descendant of guardian, who is its subreaper, or carries the command's environment marker —
// so the end of the command reaches it too. Listed only when the command is being stopped or
// has ended, never while sampling: the walk costs what the cgroup backend saves.
#include <sys/types.h>

#include <boost/asio/any_io_executor.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "guardian/process/tree_membership.hpp"
#include "guardian/process/tree_terminator.hpp"

namespace guardian::limits {

class CgroupStrays {
 public:
  /// `in_cgroup` lists the processes the cgroup holds (they are the cgroup's to end);
  /// `cgroup_path` is that cgroup as /proc/<pid>/cgroup names it ("/guardian-7/tree/main").
  CgroupStrays(boost::asio::any_io_executor executor, process::TreeMembership membership,
               std::function<std::vector<pid_t>()> in_cgroup, std::string cgroup_path);

  void started(pid_t root_pid) { membership_.set_root(root_pid); }
  process::TreeMembership& membership() { return membership_; }

  /// Signals every stray; returns how many there were.
  std::size_t signal_all(int signo) { return terminator_->signal_all(signo); }
  void kill_all(std::function<void(std::size_t killed)> done) { terminator_->kill_all(std::move(done)); }
  void async_wait_empty(std::function<void()> done) { terminator_->async_wait_empty(std::move(done)); }
  void cancel() { terminator_->cancel(); }

 private:
  std::vector<pid_t> list() const;
  bool outside_the_cgroup(pid_t pid) const;

  process::TreeMembership membership_;
  std::function<std::vector<pid_t>()> in_cgroup_;
  std::string cgroup_path_;
  // Built last: it lists through this object, which must not move after construction.
  std::unique_ptr<process::TreeTerminator> terminator_;
};

}  // namespace guardian::limits
