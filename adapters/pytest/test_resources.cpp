#include "adapters/pytest/test_resources.hpp"

#include <unistd.h>

#include <algorithm>
#include <vector>

namespace guardian::adapters::pytest {

TestUsage usage_between(const TreeReading& start, const TreeReading& end) {
  TestUsage usage;
  const std::uint64_t cpu_usec = end.cpu_usec > start.cpu_usec ? end.cpu_usec - start.cpu_usec : 0;
  usage.cpu_ms = static_cast<double>(cpu_usec) / 1000.0;
  if (start.peak_reset || end.peak_rss_bytes > start.peak_rss_bytes) {
    usage.peak_memory_bytes = std::max(end.peak_rss_bytes, end.rss_bytes);
    usage.peak_exact = true;
  } else {
    usage.peak_memory_bytes = std::max(start.rss_bytes, end.rss_bytes);
    usage.peak_exact = false;
  }
  return usage;
}

std::optional<TreeReading> TestResourceMeter::read(pid_t pid) const {
  static const std::uint64_t ticks_per_second = static_cast<std::uint64_t>(::sysconf(_SC_CLK_TCK));
  auto root = proc_.stat(pid);
  if (!root || !root->alive()) return std::nullopt;
  std::vector<pid_t> members{pid};
  for (pid_t child : proc_.descendants(pid)) members.push_back(child);
  TreeReading reading;
  std::uint64_t ticks = 0;
  for (pid_t member : members) {
    auto st = member == pid ? root : proc_.stat(member);
    if (!st) continue;  // ended between the listing and now: its parent's cutime has it
    ticks += st->utime_ticks + st->stime_ticks + st->children_utime_ticks + st->children_stime_ticks;
    if (auto memory = proc_.status_memory(member)) {
      reading.peak_rss_bytes += memory->peak_rss_bytes;
      reading.rss_bytes += memory->rss_bytes;
    }
  }
  reading.cpu_usec = ticks * 1'000'000ULL / ticks_per_second;
  return reading;
}

void TestResourceMeter::started(pid_t pid) {
  // The event's pid is the test process's word: never touch a process outside the run.
  auto reading = marker_.empty() || proc_.environment_contains(pid, marker_) ? read(pid) : std::nullopt;
  if (!reading) {
    starts_.erase(pid);
    return;
  }
  // The reporting process decides: its descendants' resets are best effort (one may end).
  reading->peak_reset = proc_.reset_peak_rss(pid);
  for (pid_t child : proc_.descendants(pid)) proc_.reset_peak_rss(child);
  starts_[pid] = *reading;
}

std::optional<TestUsage> TestResourceMeter::finished(pid_t pid) {
  auto it = starts_.find(pid);
  if (it == starts_.end()) return std::nullopt;
  const TreeReading start = it->second;
  starts_.erase(it);
  auto end = read(pid);
  if (!end) return std::nullopt;
  return usage_between(start, *end);
}

}  // namespace guardian::adapters::pytest
