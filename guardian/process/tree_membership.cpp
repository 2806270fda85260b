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
  WalkFindings findings;
  auto out = walk_once(cache, true, findings);
  // A process that ended may have left orphans to a single-threaded subreaper in the tree
  // whose remembered list predates them: walk again with every list read afresh.
  if (findings.used_remembered_lists && findings.met_an_ended_process) out = walk_once(cache, false, findings);
  return out;
}

std::vector<ProcStat> TreeMembership::walk_once(ProcFileCache* cache, bool may_remember, WalkFindings& findings) const {
  findings = {};
  auto is_excluded = [this](pid_t pid) {
    return std::find(excluded_.begin(), excluded_.end(), pid) != excluded_.end() || is_helper(pid);
  };
  // Walk guardian's own subtree: as subreaper, every process the command ever started is
  // in it, whatever it did to its group or session.
  std::vector<pid_t> supervisor_children;
  if (cache) cache->append_children_of_every_thread(supervisor_pid_, supervisor_children);
  else supervisor_children = proc_.children(supervisor_pid_);
  // Breadth first: members[next] is the next to visit. A member found in a children list
  // the cache remembered carries the parent its stat must still name (0: no check).
  struct Member {
    pid_t pid;
    pid_t remembered_parent;
  };
  std::vector<Member> members;
  for (pid_t child : supervisor_children) {
    if (is_excluded(child)) continue;
    if (child == root_ || claim_unmarked_ || proc_.environment_contains(child, marker_entry_))
      members.push_back({child, 0});
  }
  std::vector<ProcStat> out;
  out.reserve(members.size());
  std::vector<pid_t> children;
  for (std::size_t next = 0; next < members.size(); ++next) {
    const auto [pid, remembered_parent] = members[next];
    auto st = cache ? cache->stat(pid) : proc_.stat(pid);
    // Ended since the last walk (a zombie that has not run since is not news: its orphans
    // were adopted before it became one, and the walk that first met it saw them).
    if (!st || (!st->alive() && !(cache && cache->stat_reused(pid)))) findings.met_an_ended_process = true;
    // Gone since its parent's list was read, or its pid is someone else's now. (A reused
    // stat is the same process's, read through its own descriptors; its parent field may be
    // older than an adoption, so it is not compared.)
    if (remembered_parent != 0 && (!st || (!cache->stat_reused(pid) && st->ppid != remembered_parent))) continue;
    if (st && st->alive()) out.push_back(*st);
    children.clear();
    bool remembered = false;
    if (cache && st) remembered = cache->append_children(pid, st->threads, children, may_remember);
    else children = proc_.children(pid);
    findings.used_remembered_lists |= remembered;
    for (pid_t child : children)
      if (!is_excluded(child)) members.push_back({child, remembered ? pid : 0});
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
