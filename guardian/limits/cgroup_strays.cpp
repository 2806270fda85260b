#include "guardian/limits/cgroup_strays.hpp"

#include <algorithm>
#include <string>

#include "guardian/limits/cgroup_formats.hpp"
#include "guardian/process/read_small_file.hpp"

namespace guardian::limits {

CgroupStrays::CgroupStrays(boost::asio::any_io_executor executor, process::TreeMembership membership,
                           std::function<std::vector<pid_t>()> in_cgroup, std::string cgroup_path)
    : membership_(std::move(membership)),
      in_cgroup_(std::move(in_cgroup)),
      cgroup_path_(std::move(cgroup_path)),
      terminator_(std::make_unique<process::TreeTerminator>(std::move(executor), [this] { return list(); })) {}

std::vector<pid_t> CgroupStrays::list() const {
  auto members = membership_.live_members();
  if (members.empty()) return members;
  auto held = in_cgroup_();
  std::sort(held.begin(), held.end());
  std::erase_if(members, [&](pid_t pid) {
    return std::binary_search(held.begin(), held.end(), pid) || !outside_the_cgroup(pid);
  });
  return members;
}

// A member missing from cgroup.procs may only be exiting (an exiting task leaves that list
// before it is reaped): a stray is one whose own /proc/<pid>/cgroup names another cgroup.
bool CgroupStrays::outside_the_cgroup(pid_t pid) const {
  bool ok = false;
  auto text = process::read_small_file("/proc/" + std::to_string(pid) + "/cgroup", &ok);
  if (!ok) return false;  // gone
  auto path = parse_unified_cgroup_path(text);
  if (!path) return false;
  return !(*path == cgroup_path_ || path->rfind(cgroup_path_ + "/", 0) == 0);
}

}  // namespace guardian::limits
