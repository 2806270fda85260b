#pragma once
// Reading the process tree from /proc: children, descendants, per-process stats.
// The root of /proc is a parameter so tests can use fixture trees.
#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace guardian::process {

/// The fields of /proc/<pid>/stat guardian uses.
struct ProcStat {
  pid_t pid = 0;
  char state = '?';  // R S D Z T t X …
  pid_t ppid = 0;
  pid_t pgid = 0;
  pid_t sid = 0;
  std::uint64_t utime_ticks = 0;
  std::uint64_t stime_ticks = 0;
  // CPU time of the children this process waited for (cutime, cstime), theirs included.
  std::uint64_t children_utime_ticks = 0;
  std::uint64_t children_stime_ticks = 0;
  int nice = 0;
  long threads = 0;
  std::uint64_t start_ticks = 0;
  std::uint64_t rss_pages = 0;
  // CPU time in nanoseconds from /proc/<pid>/schedstat, when the reader had it (single-
  // threaded processes read through ProcFileCache): utime and stime count whole clock ticks,
  // so a process that runs a few ms per second reads as 0 in most samples.
  std::optional<std::uint64_t> run_time_ns;
  bool alive() const { return state != 'Z' && state != 'X'; }
};

/// The process's CPU time in microseconds: the precise run time when known, else its ticks.
std::uint64_t cpu_usec(const ProcStat& st);

/// Parses the text of a /proc/<pid>/stat file (the command name may contain spaces and ')').
std::optional<ProcStat> parse_stat(std::string_view text);
/// The memory lines of /proc/<pid>/status, in bytes (a kernel thread has neither).
struct StatusMemory {
  std::uint64_t peak_rss_bytes = 0;  // VmHWM: the resident peak since start or the last reset
  std::uint64_t rss_bytes = 0;       // VmRSS
};
/// Parses VmHWM and VmRSS out of the text of a /proc/<pid>/status file.
std::optional<StatusMemory> parse_status_memory(std::string_view text);

/// Appends the pids of a space-separated list (a /proc/<pid>/task/<tid>/children file).
void append_pid_list(std::string_view text, std::vector<pid_t>& out);

class ProcFs {
 public:
  explicit ProcFs(std::filesystem::path root = "/proc") : root_(std::move(root)) {}

  std::optional<ProcStat> stat(pid_t pid) const;
  /// Direct children of every thread of `pid`.
  std::vector<pid_t> children(pid_t pid) const;
  /// All descendants of `pid` (breadth first), not including `pid`, skipping the subtrees
  /// rooted at any pid in `excluded`.
  std::vector<pid_t> descendants(pid_t pid, const std::vector<pid_t>& excluded = {}) const;
  /// VmHWM and VmRSS of `pid`.
  std::optional<StatusMemory> status_memory(pid_t pid) const;
  /// Resets the resident peak (VmHWM) of `pid` to its current resident size: writes "5" to
  /// /proc/<pid>/clear_refs (Linux >= 4.0; allowed for one's own processes). False if refused.
  bool reset_peak_rss(pid_t pid) const;
  /// Whether the environment of `pid` contains exactly the entry "NAME=value".
  bool environment_contains(pid_t pid, std::string_view entry) const;
  /// Every pid currently listed in /proc.
  std::vector<pid_t> all_pids() const;

  const std::filesystem::path& root() const { return root_; }

 private:
  std::filesystem::path root_;
};

}  // namespace guardian::process
