#pragma once
// Which live processes belong to one supervised command: its root and every descendant,
// plus escapees (double fork, setsid) that guardian adopted as child subreaper and that
// carry the command's environment marker.
#include <sys/types.h>

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "guardian/process/proc_file_cache.hpp"
#include "guardian/process/proc_tree.hpp"

namespace guardian::process {

class TreeMembership {
 public:
  /// `marker_entry` is the "NAME=value" environment entry every process of the command inherits.
  TreeMembership(ProcFs proc, pid_t supervisor_pid, std::string marker_entry);
  // A copy walks on its own: it gets its own (empty) cache of open /proc files.
  TreeMembership(const TreeMembership& other);
  TreeMembership& operator=(const TreeMembership& other);
  TreeMembership(TreeMembership&&) = default;
  TreeMembership& operator=(TreeMembership&&) = default;

  void set_root(pid_t root) { root_ = root; }
  pid_t root() const { return root_; }
  /// Never count these subtrees (the sentinel, other commands' roots).
  void exclude_subtree(pid_t pid) { excluded_.push_back(pid); }
  /// Never count the subtrees of processes this says are guardian's own helpers (the plugin
  /// host, whose pid changes when it is restarted).
  void exclude_subtrees_of(std::function<bool(pid_t)> is_helper) { helpers_.push_back(std::move(is_helper)); }
  /// Whether `pid` is one of those helpers.
  bool is_helper(pid_t pid) const;
  /// Also claim adopted orphans without the marker (for the run's last sweep, where
  /// everything under guardian goes).
  void claim_unmarked_orphans(bool claim) { claim_unmarked_ = claim; }

  /// Live (not zombie) members now, read afresh from /proc (for signalling: nothing cached).
  std::vector<pid_t> live_members() const;
  /// Live members with their stats, for samplers that walk the tree again and again: the
  /// members' /proc files stay open between calls (see ProcFileCache).
  std::vector<ProcStat> live_member_stats() const;

  const ProcFs& proc() const { return proc_; }

 private:
  ProcFs proc_;
  pid_t supervisor_pid_;
  std::string marker_entry_;
  pid_t root_ = -1;
  std::vector<pid_t> excluded_;
  std::vector<std::function<bool(pid_t)>> helpers_;
  bool claim_unmarked_ = false;

  struct Cache {
    explicit Cache(const ProcFs& proc) : files(proc) {}
    std::mutex mutex;  // samplers may run on more than one thread
    ProcFileCache files;
  };
  std::vector<ProcStat> walk(ProcFileCache* cache) const;
  struct WalkFindings {
    bool used_remembered_lists = false;
    bool met_an_ended_process = false;  // a zombie, or a pid gone since its parent's list
  };
  std::vector<ProcStat> walk_once(ProcFileCache* cache, bool may_remember, WalkFindings& findings) const;
  std::shared_ptr<Cache> cache_;
};

}  // namespace guardian::process
