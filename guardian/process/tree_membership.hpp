#pragma once
// Which live processes belong to one supervised command: its root and every descendant,
// plus escapees (double fork, setsid) that guardian adopted as child subreaper and that
// carry the command's environment marker.
#include <sys/types.h>

#include <string>
#include <vector>

#include "guardian/process/proc_tree.hpp"

namespace guardian::process {

class TreeMembership {
 public:
  /// `marker_entry` is the "NAME=value" environment entry every process of the command inherits.
  TreeMembership(ProcFs proc, pid_t supervisor_pid, std::string marker_entry);

  void set_root(pid_t root) { root_ = root; }
  pid_t root() const { return root_; }
  /// Never count these subtrees (the sentinel, other commands' roots).
  void exclude_subtree(pid_t pid) { excluded_.push_back(pid); }
  /// Also claim adopted orphans without the marker (for the run's last sweep, where
  /// everything under guardian goes).
  void claim_unmarked_orphans(bool claim) { claim_unmarked_ = claim; }

  /// Live (not zombie) members now.
  std::vector<pid_t> live_members() const;
  /// Live members with their stats (one read each), for samplers.
  std::vector<ProcStat> live_member_stats() const;

  const ProcFs& proc() const { return proc_; }

 private:
  ProcFs proc_;
  pid_t supervisor_pid_;
  std::string marker_entry_;
  pid_t root_ = -1;
  std::vector<pid_t> excluded_;
  bool claim_unmarked_ = false;
};

}  // namespace guardian::process
