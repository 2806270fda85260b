#pragma once
// CgroupRunTree: the cgroups of one guardian process —
//   <parent>/guardian-<pid>/             the run node (controllers enabled for its children)
//   <parent>/guardian-<pid>/supervisor   guardian itself, when it had to leave its cgroup
//                                        (the "no internal processes" rule)
//   <parent>/guardian-<pid>/tree         the ceilings of the whole supervised tree
//   <parent>/guardian-<pid>/tree/<unit>  one leaf per supervised command (main, each server)
// guardian is never under the ceilings, so an OOM group kill cannot take it. Shared by the
// limiters of a run; the last one to let go tears it down, leaving the hierarchy as found.
#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "guardian/limits/backend_choice.hpp"
#include "guardian/limits/ceilings.hpp"
#include "guardian/limits/cgroup_fs.hpp"
#include "guardian/process/sentinel.hpp"

namespace guardian::limits {

class CgroupRunTree {
 public:
  /// Creates the run node (and guardian's leaf) as `choice` says. Nothing is left behind on error.
  static Result<std::shared_ptr<CgroupRunTree>> create(const CgroupFs& fs, const BackendChoice& choice,
                                                       const Ceilings& ceilings);
  ~CgroupRunTree();
  CgroupRunTree(const CgroupRunTree&) = delete;
  CgroupRunTree& operator=(const CgroupRunTree&) = delete;

  const CgroupFs& fs() const { return fs_; }
  const std::string& run_dir() const { return run_dir_; }
  /// The node that carries the ceilings (memory.max, cpu.max, pids.max) of all units.
  const std::string& tree_dir() const { return tree_dir_; }
  const Ceilings& ceilings() const { return ceilings_; }
  const std::vector<std::string>& controllers() const { return controllers_; }
  /// What setup did beyond creating directories (moves, enabled controllers), for the report.
  const std::vector<std::string>& notes() const { return notes_; }

  /// Creates the leaf for one supervised unit; returns its directory (relative to the mount).
  Result<std::string> add_unit(const std::string& name);

  /// What teardown() does, for the sentinel to do if guardian is killed before it can.
  std::vector<process::UndoStep> undo_after_death() const;

  /// Removes directories of guardian runs whose guardian is gone (it was SIGKILLed) and
  /// whose cgroups are empty, under `parent`. Returns how many were removed.
  static std::size_t remove_stale_runs(const CgroupFs& fs, const std::string& parent);

 private:
  CgroupRunTree(CgroupFs fs, std::string parent, std::string run_dir, Ceilings ceilings);
  Status setup(const BackendChoice& choice);
  Status apply_ceilings();
  void teardown();

  CgroupFs fs_;
  std::string parent_;
  std::string run_dir_;
  std::string tree_dir_;
  Ceilings ceilings_;
  std::string self_leaf_;                       // guardian's own leaf, when it moved
  std::string origin_;                          // where guardian came from, and returns to
  std::vector<std::string> controllers_;        // enabled for the units
  std::vector<std::string> enabled_in_parent_;  // by us: to be disabled again at the end
  std::vector<std::string> notes_;
  bool created_ = false;
};

}  // namespace guardian::limits
