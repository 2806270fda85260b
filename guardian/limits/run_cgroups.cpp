#include "guardian/limits/run_cgroups.hpp"

namespace guardian::limits {

Result<std::shared_ptr<CgroupRunTree>> RunCgroups::tree(const CgroupFs& fs, const BackendChoice& choice,
                                                        const Ceilings& ceilings) {
  if (auto tree = tree_.lock()) return tree;
  auto created = CgroupRunTree::create(fs, choice, ceilings);
  if (created) tree_ = *created;
  return created;
}

}  // namespace guardian::limits
