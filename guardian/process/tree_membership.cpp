#include "guardian/process/tree_membership.hpp"

#include <algorithm>
#include <deque>

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
      claim_unmarked_(other.claim_unmarked_),
      cache_(std::make_shared<Cache>(proc_)) {}

TreeMembership& TreeMembership::operator=(const TreeMembership& other) {
  if (this != &other) *this = TreeMembership(other);
  return *this;
}

std::vector<ProcStat> TreeMembership::walk(ProcFileCache* cache) const {
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
    auto st = cache ? cache->stat(pid) : proc_.stat(pid);
    if (st && st->alive()) out.push_back(*st);
    const auto children = cache && st ? cache->children(pid, st->threads) : proc_.children(pid);
    for (pid_t child : children)
      if (std::find(excluded_.begin(), excluded_.end(), child) == excluded_.end()) members.push_back(child);
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
