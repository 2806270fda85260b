#pragma once
// RunCgroups: the cgroups of one run (a CgroupRunTree), shared by every unit of the session —
// the main command and each dev server. The session owns it and hands it to make_limiter
// (LimiterRequest::run_cgroups), so run state lives in the session's objects, not in a
// function-level static.
#include <memory>

#include "guardian/limits/backend_choice.hpp"
#include "guardian/limits/ceilings.hpp"
#include "guardian/limits/cgroup_fs.hpp"
#include "guardian/limits/cgroup_run_tree.hpp"

namespace guardian::limits {

class RunCgroups {
 public:
  /// The run's tree while a limiter of this run still holds it, else a new one (kept only as
  /// long as a limiter holds it: the last one to let go tears it down).
  Result<std::shared_ptr<CgroupRunTree>> tree(const CgroupFs& fs, const BackendChoice& choice,
                                              const Ceilings& ceilings);

 private:
  std::weak_ptr<CgroupRunTree> tree_;
};

}  // namespace guardian::limits
