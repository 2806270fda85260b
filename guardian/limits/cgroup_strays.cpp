#include "guardian/limits/cgroup_strays.hpp"

#include <algorithm>

namespace guardian::limits {

CgroupStrays::CgroupStrays(boost::asio::any_io_executor executor, process::TreeMembership membership,
                           std::function<std::vector<pid_t>()> in_cgroup)
    : membership_(std::move(membership)),
      in_cgroup_(std::move(in_cgroup)),
      terminator_(std::make_unique<process::TreeTerminator>(std::move(executor), [this] { return list(); })) {}

std::vector<pid_t> CgroupStrays::list() const {
  auto members = membership_.live_members();
  if (members.empty()) return members;
  auto held = in_cgroup_();
  std::sort(held.begin(), held.end());
  std::erase_if(members, [&](pid_t pid) { return std::binary_search(held.begin(), held.end(), pid); });
  return members;
}

}  // namespace guardian::limits
