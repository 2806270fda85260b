#include "guardian/process/proc_file_cache.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <string>
#include <string_view>

namespace guardian::process {
namespace {

int open_proc_file(const std::filesystem::path& path) { return ::open(path.c_str(), O_RDONLY | O_CLOEXEC); }

// The whole file (they are far below a page), or nullopt when the process is gone.
std::optional<std::string_view> read_at_start(int fd, char* buffer, std::size_t size) {
  if (fd < 0) return std::nullopt;
  const ssize_t n = ::pread(fd, buffer, size, 0);
  if (n < 0) return std::nullopt;
  return std::string_view(buffer, static_cast<std::size_t>(n));
}

}  // namespace

ProcFileCache::~ProcFileCache() {
  for (auto& [pid, entry] : entries_) close_entry(entry);
}

void ProcFileCache::close_entry(Entry& entry) {
  if (entry.stat_fd >= 0) ::close(entry.stat_fd);
  if (entry.children_fd >= 0) ::close(entry.children_fd);
  entry.stat_fd = entry.children_fd = -1;
}

void ProcFileCache::begin_walk() {
  for (auto& [pid, entry] : entries_) entry.seen = false;
}

void ProcFileCache::end_walk() {
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (it->second.seen) {
      ++it;
      continue;
    }
    close_entry(it->second);
    it = entries_.erase(it);
  }
}

ProcFileCache::Entry* ProcFileCache::entry_for(pid_t pid) {
  auto it = entries_.find(pid);
  if (it == entries_.end()) {
    if (entries_.size() >= kMaxProcesses) return nullptr;
    it = entries_.emplace(pid, Entry{}).first;
  }
  it->second.seen = true;
  return &it->second;
}

std::optional<ProcStat> ProcFileCache::stat(pid_t pid) {
  Entry* entry = entry_for(pid);
  if (entry == nullptr) return proc_.stat(pid);
  const auto path = proc_.root() / std::to_string(pid) / "stat";
  if (entry->stat_fd < 0) entry->stat_fd = open_proc_file(path);
  auto text = read_at_start(entry->stat_fd, buffer_, sizeof buffer_);
  if (!text) {
    // The process this descriptor was opened for is gone; the pid may belong to a new one.
    close_entry(*entry);
    entry->stat_fd = open_proc_file(path);
    text = read_at_start(entry->stat_fd, buffer_, sizeof buffer_);
    if (!text) return std::nullopt;
  }
  return parse_stat(*text);
}

std::vector<pid_t> ProcFileCache::children(pid_t pid, long threads) {
  Entry* entry = threads == 1 ? entry_for(pid) : nullptr;
  if (entry == nullptr || entry->stat_fd < 0) return proc_.children(pid);  // every thread's children
  if (entry->children_fd < 0) {
    const std::string id = std::to_string(pid);
    entry->children_fd = open_proc_file(proc_.root() / id / "task" / id / "children");
  }
  auto text = read_at_start(entry->children_fd, buffer_, sizeof buffer_);
  if (!text || text->size() == sizeof buffer_) return proc_.children(pid);  // gone, or too long for the buffer
  std::vector<pid_t> out;
  append_pid_list(*text, out);
  return out;
}

}  // namespace guardian::process
