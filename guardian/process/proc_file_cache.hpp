#pragma once
// ProcFileCache: keeps the /proc files of a watched tree open between samples and re-reads
// them with pread. Opening and closing /proc files per process per sample (the path lookup,
// permission checks and file setup) is most of what a /proc walk costs; pread on an open
// /proc file regenerates it. A descriptor stays bound to the process it was opened for, so
// a reused pid can never be misread: reading a dead process's file fails, and the pid is
// opened afresh.
//
// It also skips the most expensive file when it can: a single-threaded process's CPU time,
// state and resident memory change only while it runs, so when its schedstat (the run time
// of its one thread, a quarter of the cost of generating its stat line) has not moved, the
// stat read last time is still true. A reused stat is refreshed every kMaxReuses samples all
// the same, so memory the kernel reclaimed from a sleeping process shows within a few samples.
// Fields another process can change while it sleeps (its nice value, its process group) can
// be as old: whatever signals or renices reads afresh (TreeMembership::live_members).
//
// The same holds for a children list: it grows only when its process forks, which it cannot
// do without running, so the list of a process whose stat was reused is the one read before.
// It can shrink while the process sleeps (a child it never waits for is reaped by the kernel)
// and a pid in it may since belong to someone else: a reused list is returned as such, and
// the caller keeps only the children whose stat still names the parent. One more way a list
// grows without its process running: a subreaper adopts the orphans of a descendant that
// ended. So a walk that meets a process that ended walks again with every list read afresh
// (TreeMembership::walk).
#include <dirent.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "guardian/process/proc_tree.hpp"
#include "guardian/process/unique_fd.hpp"

namespace guardian::process {

class ProcFileCache {
 public:
  /// At most this many processes keep open files (three each); the rest are read uncached.
  /// All caches of the process together also stay within a quarter of the soft
  /// RLIMIT_NOFILE (see process::raise_open_file_limit), so a huge tree never takes the
  /// descriptors the rest of guardian needs.
  static constexpr std::size_t kMaxProcesses = 4096;
  static constexpr int kFilesPerProcess = 3;
  static constexpr unsigned kMaxReuses = 8;

  explicit ProcFileCache(ProcFs proc, std::size_t max_processes = kMaxProcesses)
      : proc_(std::move(proc)), max_processes_(max_processes) {}
  ~ProcFileCache();
  ProcFileCache(const ProcFileCache&) = delete;
  ProcFileCache& operator=(const ProcFileCache&) = delete;

  /// Starts a walk: processes not read again before end_walk() lose their files.
  void begin_walk();
  void end_walk();

  std::optional<ProcStat> stat(pid_t pid);
  /// Appends the direct children of `pid`, whose stat (just read) says it has `threads` threads.
  /// Returns whether they are the list read before (`pid` has not run since; only when
  /// `may_remember`): then some may be gone, or be other processes by now, and the caller
  /// checks each child's parent.
  bool append_children(pid_t pid, long threads, std::vector<pid_t>& out, bool may_remember = true);
  /// Direct children of `pid`, whose stat (just read) says it has `threads` threads.
  std::vector<pid_t> children(pid_t pid, long threads);
  /// Appends the children of every thread of `pid`, a multi-threaded parent walked on every
  /// sample (guardian itself): its task directory and each thread's list stay open.
  void append_children_of_every_thread(pid_t pid, std::vector<pid_t>& out);

  std::size_t cached_processes() const { return entries_.size(); }
  /// How many stat reads were answered from a stat read before (for tests and benchmarks).
  std::uint64_t reused_stats() const { return reused_stats_; }
  /// Whether this walk's stat of `pid` was the one read before (it has not run since).
  bool stat_reused(pid_t pid) const {
    auto it = entries_.find(pid);
    return it != entries_.end() && it->second.stat_reused;
  }
  /// How many children lists were answered from the list read before.
  std::uint64_t reused_children_lists() const { return reused_children_lists_; }

 private:
  struct Entry {
    UniqueFd stat_fd;
    UniqueFd schedstat_fd;
    UniqueFd children_fd;  // the main thread's children (single-threaded processes)
    std::optional<ProcStat> last_stat;
    std::optional<std::uint64_t> run_time_at_last_stat;  // ns, from schedstat read just before it
    unsigned reuses = 0;
    bool stat_reused = false;  // by the last stat(): it has not run since last_children was read
    std::optional<std::vector<pid_t>> last_children;  // of a single-threaded process
    bool busy = false;  // its CPU time moved between the last two stat reads
    bool seen = false;
  };
  Entry* entry_for(pid_t pid);
  void forget(std::unordered_map<pid_t, Entry>::iterator it);
  std::optional<std::uint64_t> run_time(Entry& entry, pid_t pid);

  struct DirCloser {
    void operator()(DIR* dir) const { ::closedir(dir); }
  };
  struct ThreadedParent {
    pid_t pid = -1;
    std::unique_ptr<DIR, DirCloser> task_dir;
    std::unordered_map<pid_t, UniqueFd> children_by_thread;
  };

  ProcFs proc_;
  std::size_t max_processes_;
  std::unordered_map<pid_t, Entry> entries_;
  ThreadedParent parent_;
  std::uint64_t reused_stats_ = 0;
  std::uint64_t reused_children_lists_ = 0;
  char buffer_[4096];
  std::string overflow_;  // a children list longer than buffer_
};

}  // namespace guardian::process
