#pragma once
// ProcFileCache: keeps the /proc files of a watched tree open between samples and re-reads
// them with pread. Opening and closing two /proc files per process per sample (the path
// lookup, permission checks and file setup) is most of what a /proc walk costs; pread on an
// open /proc file regenerates it. A descriptor stays bound to the process it was opened
// for, so a reused pid can never be misread: reading a dead process's file fails, and the
// pid is opened afresh.
#include <sys/types.h>

#include <cstddef>
#include <optional>
#include <unordered_map>
#include <vector>

#include "guardian/process/proc_tree.hpp"

namespace guardian::process {

class ProcFileCache {
 public:
  /// At most this many processes keep open files (two each); the rest are read uncached,
  /// so a huge tree cannot exhaust guardian's file descriptors.
  static constexpr std::size_t kMaxProcesses = 256;

  explicit ProcFileCache(ProcFs proc) : proc_(std::move(proc)) {}
  ~ProcFileCache();
  ProcFileCache(const ProcFileCache&) = delete;
  ProcFileCache& operator=(const ProcFileCache&) = delete;

  /// Starts a walk: processes not read again before end_walk() lose their files.
  void begin_walk();
  void end_walk();

  std::optional<ProcStat> stat(pid_t pid);
  /// Direct children of `pid`, whose stat (just read) says it has `threads` threads.
  std::vector<pid_t> children(pid_t pid, long threads);

  std::size_t cached_processes() const { return entries_.size(); }

 private:
  struct Entry {
    int stat_fd = -1;
    int children_fd = -1;  // the main thread's children (single-threaded processes)
    bool seen = false;
  };
  static void close_entry(Entry& entry);
  Entry* entry_for(pid_t pid);

  ProcFs proc_;
  std::unordered_map<pid_t, Entry> entries_;
  char buffer_[4096];
};

}  // namespace guardian::process
