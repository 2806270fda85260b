#include "guardian/process/proc_file_cache.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <string>
#include <string_view>

#include "guardian/process/kept_open_file.hpp"

namespace guardian::process {
namespace {

// /proc/<pid>/<name> under `proc`'s root, read-only.
UniqueFd open_pid_file(const ProcFs& proc, pid_t pid, const std::string& name) {
  return UniqueFd(::open((proc.root() / std::to_string(pid) / name).c_str(), O_RDONLY | O_CLOEXEC));
}

// Descriptors every cache of this process may still keep open together: a quarter of the
// soft RLIMIT_NOFILE as it is at the first sample (after guardian raised it), so a big tree
// seen by several samplers never takes the descriptors the rest of guardian needs.
std::atomic<long>& descriptor_budget() {
  static std::atomic<long> budget = [] {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return 4096L;
    return static_cast<long>(limit.rlim_cur / 4);
  }();
  return budget;
}

bool reserve_descriptors() {
  auto& budget = descriptor_budget();
  long left = budget.load();
  while (left >= ProcFileCache::kFilesPerProcess)
    if (budget.compare_exchange_weak(left, left - ProcFileCache::kFilesPerProcess)) return true;
  return false;
}

void return_descriptors() { descriptor_budget() += ProcFileCache::kFilesPerProcess; }

std::uint64_t cpu_ticks(const ProcStat& st) { return st.utime_ticks + st.stime_ticks; }

}  // namespace

ProcFileCache::~ProcFileCache() {
  for (std::size_t i = 0; i < entries_.size(); ++i) return_descriptors();
}

void ProcFileCache::forget(std::unordered_map<pid_t, Entry>::iterator it) {
  entries_.erase(it);
  return_descriptors();
}

void ProcFileCache::begin_walk() {
  for (auto& [pid, entry] : entries_) entry.seen = false;
}

void ProcFileCache::end_walk() {
  for (auto it = entries_.begin(); it != entries_.end();) {
    auto next = std::next(it);
    if (!it->second.seen) forget(it);
    it = next;
  }
}

ProcFileCache::Entry* ProcFileCache::entry_for(pid_t pid) {
  auto it = entries_.find(pid);
  if (it == entries_.end()) {
    if (entries_.size() >= max_processes_ || !reserve_descriptors()) return nullptr;
    it = entries_.emplace(pid, Entry{}).first;
  }
  it->second.seen = true;
  return &it->second;
}

std::optional<std::uint64_t> ProcFileCache::run_time(Entry& entry, pid_t pid) {
  if (!entry.schedstat_fd) entry.schedstat_fd = open_pid_file(proc_, pid, "schedstat");
  auto text = read_start(entry.schedstat_fd, buffer_);
  if (!text) return std::nullopt;
  // "<run time ns> <wait time ns> <timeslices>"
  std::uint64_t ns = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), ns);
  if (ec != std::errc{} || end == text->data()) return std::nullopt;
  return ns;
}

std::optional<ProcStat> ProcFileCache::stat(pid_t pid) {
  Entry* entry = entry_for(pid);
  if (entry == nullptr) return proc_.stat(pid);

  // Whether the stat read last time still holds: only for a single-threaded process (the
  // schedstat is one thread's) that was not busy then (a busy one will have run again, so
  // the schedstat would only add a read), and not too many times in a row.
  entry->stat_reused = false;
  std::optional<std::uint64_t> run_time_now;
  const bool may_reuse = entry->last_stat && entry->last_stat->threads == 1 && !entry->busy;
  if (may_reuse) {
    run_time_now = run_time(*entry, pid);
    if (run_time_now && run_time_now == entry->run_time_at_last_stat && entry->reuses < kMaxReuses) {
      ++entry->reuses;
      ++reused_stats_;
      entry->stat_reused = true;
      return entry->last_stat;
    }
  }

  if (!entry->stat_fd) entry->stat_fd = open_pid_file(proc_, pid, "stat");
  auto text = read_start(entry->stat_fd, buffer_);
  if (!text) {
    // The process these descriptors were opened for is gone; the pid may belong to a new
    // one, which starts with fresh descriptors and no history.
    *entry = Entry{};
    entry->seen = true;
    run_time_now.reset();
    entry->stat_fd = open_pid_file(proc_, pid, "stat");
    text = read_start(entry->stat_fd, buffer_);
    if (!text) return std::nullopt;
  }
  auto st = parse_stat(*text);
  entry->busy = st && entry->last_stat && cpu_ticks(*st) != cpu_ticks(*entry->last_stat);
  if (st && st->threads == 1) {
    // The precise CPU time; read after the stat when it was not read before it, and then
    // not a baseline for reuse (the process may have run in between).
    st->run_time_ns = run_time_now ? run_time_now : run_time(*entry, pid);
  }
  entry->last_stat = st;
  // The schedstat was read before the stat: if the process ran in between, the next
  // comparison fails and the stat is read again, never the other way round.
  entry->run_time_at_last_stat = run_time_now;
  entry->reuses = 0;
  return st;
}

bool ProcFileCache::append_children(pid_t pid, long threads, std::vector<pid_t>& out, bool may_remember) {
  if (threads != 1) {  // each thread has its own list
    const auto every_thread = proc_.children(pid);
    out.insert(out.end(), every_thread.begin(), every_thread.end());
    return false;
  }
  auto it = entries_.find(pid);
  Entry* entry = it != entries_.end() && it->second.stat_fd ? &it->second : nullptr;  // none: beyond the cap
  // Its stat was reused: it has not run since the list was read (the list is read after the
  // stat, and the stat after the schedstat that reuse compares with).
  if (entry && may_remember && entry->stat_reused && entry->last_children) {
    ++reused_children_lists_;
    out.insert(out.end(), entry->last_children->begin(), entry->last_children->end());
    return true;
  }
  UniqueFd uncached;  // beyond the cap: read and closed at once
  UniqueFd& fd = entry ? entry->children_fd : uncached;
  if (!fd) fd = open_pid_file(proc_, pid, "task/" + std::to_string(pid) + "/children");
  auto text = read_from_start(fd, buffer_, overflow_);
  const std::size_t first = out.size();
  if (text) append_pid_list(*text, out);
  if (entry) {
    entry->last_children.reset();
    if (text) entry->last_children.emplace(out.begin() + static_cast<std::ptrdiff_t>(first), out.end());
  }
  return false;
}

void ProcFileCache::append_children_of_every_thread(pid_t pid, std::vector<pid_t>& out) {
  if (parent_.pid != pid || !parent_.task_dir) {
    parent_ = ThreadedParent{pid, {}, {}};
    parent_.task_dir.reset(::opendir((proc_.root() / std::to_string(pid) / "task").c_str()));
    if (!parent_.task_dir) return;
  }
  ::rewinddir(parent_.task_dir.get());  // lists the threads there are now
  std::unordered_map<pid_t, UniqueFd> still_there;
  while (auto* item = ::readdir(parent_.task_dir.get())) {
    pid_t tid = 0;
    const std::string_view name(item->d_name);
    if (std::from_chars(name.data(), name.data() + name.size(), tid).ec != std::errc{}) continue;
    auto known = parent_.children_by_thread.find(tid);
    UniqueFd fd = known != parent_.children_by_thread.end()
                      ? std::move(known->second)
                      : open_pid_file(proc_, pid, "task/" + std::string(name) + "/children");
    if (auto text = read_from_start(fd, buffer_, overflow_)) append_pid_list(*text, out);
    still_there.emplace(tid, std::move(fd));
  }
  parent_.children_by_thread = std::move(still_there);
}

std::vector<pid_t> ProcFileCache::children(pid_t pid, long threads) {
  std::vector<pid_t> out;
  append_children(pid, threads, out);
  return out;
}

}  // namespace guardian::process
