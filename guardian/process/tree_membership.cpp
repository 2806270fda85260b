#include "guardian/process/tree_membership.hpp"

#include <algorithm>
#include <deque>

namespace guardian::process {

TreeMembership::TreeMembership(ProcFs proc, pid_t supervisor_pid, std::string marker_entry)
    : proc_(std::move(proc)), supervisor_pid_(supervisor_pid), marker_entry_(std::move(marker_entry)) {}

std::vector<ProcStat> TreeMembership::live_member_stats() const {
  std::vector<ProcStat> out;
  // Walk guardian's own subtree: as subreaper, every process the command ever started is
  // in it, whatever it did to its group or session.
  std::deque<pid_t> members;
  for (pid_t child : proc_.children(supervisor_pid_)) {
    if (std::find(excluded_.begin(), excluded_.end(), child) != excluded_.end()) continue;
    if (child == root_ || claim_unmarked_ || proc_.environment_contains(child, marker_entry_))
      members.push_back(child);
  }
  while (!members.empty()) {
    pid_t pid = members.front();
    members.pop_front();
    if (auto st = proc_.stat(pid); st && st->alive()) out.push_back(*st);
    for (pid_t child : proc_.children(pid))
      if (std::find(excluded_.begin(), excluded_.end(), child) == excluded_.end()) members.push_back(child);
  }
  return out;
}

std::vector<pid_t> TreeMembership::live_members() const {
  std::vector<pid_t> pids;
  for (const auto& st : live_member_stats()) pids.push_back(st.pid);
  return pids;
}

}  // namespace guardian::process
