#include "guardian/process/tree_membership.hpp"

#include <algorithm>

namespace guardian::process {

TreeMembership::TreeMembership(ProcFs proc, pid_t supervisor_pid, std::string marker_entry)
    : proc_(std::move(proc)),
      supervisor_pid_(supervisor_pid),
      marker_entry_(std::move(marker_entry)),
      cache_(std::make_shared<Cache>(proc_)) {}

TreeMembership::TreeMembership(const TreeMembership& other)
    : proc_(other.proc_),
      supervisor_pid_(other.supervisor_pid_),
      marker_entry_(other.marker_entry_),
      root_(other.root_),
      excluded_(other.excluded_),
      helpers_(other.helpers_),
      claim_unmarked_(other.claim_unmarked_),
      cache_(std::make_shared<Cache>(proc_)) {}

TreeMembership& TreeMembership::operator=(const TreeMembership& other) {
  if (this != &other) *this = TreeMembership(other);
  return *this;
}

bool TreeMembership::is_helper(pid_t pid) const {
  return std::any_of(helpers_.begin(), helpers_.end(), [pid](const auto& is_helper) { return is_helper(pid); });
}

std::vector<ProcStat> TreeMembership::walk(ProcFileCache* cache) const {
  auto is_excluded = [this](pid_t pid) {
    return std::find(excluded_.begin(), excluded_.end(), pid) != excluded_.end() || is_helper(pid);
  };
  // Walk guardian's own subtree: as subreaper, every process the command ever started is
  // in it, whatever it did to its group or session.
  std::vector<pid_t> supervisor_children;
  if (cache) cache->append_children_of_every_thread(supervisor_pid_, supervisor_children);
  else supervisor_children = proc_.children(supervisor_pid_);
  std::vector<pid_t> members;  // breadth first: members[next] is the next to visit
  for (pid_t child : supervisor_children) {
    if (is_excluded(child)) continue;
    if (child == root_ || claim_unmarked_ || proc_.environment_contains(child, marker_entry_))
      members.push_back(child);
  }
  std::vector<ProcStat> out;
  out.reserve(members.size());
  std::vector<pid_t> children;
  for (std::size_t next = 0; next < members.size(); ++next) {
    const pid_t pid = members[next];
    auto st = cache ? cache->stat(pid) : proc_.stat(pid);
    if (st && st->alive()) out.push_back(*st);
    children.clear();
    if (cache && st) cache->append_children(pid, st->threads, children);
    else children = proc_.children(pid);
    for (pid_t child : children)
      if (!is_excluded(child)) members.push_back(child);
  }
  return out;
}

std::vector<ProcStat> TreeMembership::live_member_stats() const {
  if (!cache_) return walk(nullptr);  // moved from
  std::lock_guard lock(cache_->mutex);
  cache_->files.begin_walk();
  auto out = walk(&cache_->files);
  cache_->files.end_walk();
  return out;
}

std::vector<pid_t> TreeMembership::live_members() const {
  std::vector<pid_t> pids;
  for (const auto& st : walk(nullptr)) pids.push_back(st.pid);
  return pids;
}

}  // namespace guardian::process
