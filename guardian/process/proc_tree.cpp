#include "guardian/process/proc_tree.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <deque>

#include "guardian/process/read_small_file.hpp"

namespace guardian::process {
namespace {

template <typename T>
bool parse_number(std::string_view field, T& out) {
  auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), out);
  return ec == std::errc{} && end == field.data() + field.size();
}

std::vector<pid_t> numeric_entries(const std::string& dir) {
  std::vector<pid_t> out;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return out;
  while (auto* entry = ::readdir(d)) {
    pid_t pid = 0;
    std::string_view name(entry->d_name);
    if (parse_number(name, pid)) out.push_back(pid);
  }
  ::closedir(d);
  return out;
}

}  // namespace

std::optional<ProcStat> parse_stat(std::string_view text) {
  auto open = text.find('(');
  auto close = text.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) return std::nullopt;
  ProcStat st;
  if (!parse_number(text.substr(0, open > 0 ? open - 1 : 0), st.pid)) return std::nullopt;
  std::string_view rest = text.substr(close + 1);
  // Fields after the command, numbered as in proc(5) starting at 3 (state). A fixed array:
  // this runs for every member on every check, and a heap allocation would cost as much as
  // the parsing.
  std::array<std::string_view, 22> fields;
  std::size_t count = 0;
  while (!rest.empty() && count < fields.size()) {
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    auto space = rest.find(' ');
    fields[count++] = rest.substr(0, space);
    rest = space == std::string_view::npos ? std::string_view{} : rest.substr(space);
  }
  if (count < fields.size()) return std::nullopt;
  auto field = [&](int number) { return fields[static_cast<std::size_t>(number - 3)]; };
  st.state = field(3).empty() ? '?' : field(3)[0];
  bool ok = parse_number(field(4), st.ppid) && parse_number(field(5), st.pgid) &&
            parse_number(field(6), st.sid) && parse_number(field(14), st.utime_ticks) &&
            parse_number(field(15), st.stime_ticks) && parse_number(field(16), st.children_utime_ticks) &&
            parse_number(field(17), st.children_stime_ticks) && parse_number(field(19), st.nice) &&
            parse_number(field(20), st.threads) && parse_number(field(22), st.start_ticks) &&
            parse_number(field(24), st.rss_pages);
  if (!ok) return std::nullopt;
  return st;
}

std::uint64_t cpu_usec(const ProcStat& st) {
  static const std::uint64_t ticks_per_second = static_cast<std::uint64_t>(::sysconf(_SC_CLK_TCK));
  if (st.run_time_ns) return *st.run_time_ns / 1000;
  return (st.utime_ticks + st.stime_ticks) * 1'000'000ULL / ticks_per_second;
}

std::optional<ProcStat> ProcFs::stat(pid_t pid) const {
  auto text = read_small_file((root_ / std::to_string(pid) / "stat").string());
  if (text.empty()) return std::nullopt;
  return parse_stat(text);
}

std::vector<pid_t> ProcFs::children(pid_t pid) const {
  std::vector<pid_t> out;
  auto task_dir = (root_ / std::to_string(pid) / "task").string();
  for (pid_t tid : numeric_entries(task_dir)) {
    append_pid_list(read_small_file(task_dir + "/" + std::to_string(tid) + "/children"), out);
  }
  return out;
}

std::optional<StatusMemory> parse_status_memory(std::string_view text) {
  // Lines look like "VmHWM:\t  307712 kB".
  auto kib = [&](std::string_view key) -> std::optional<std::uint64_t> {
    std::size_t at = 0;
    while ((at = text.find(key, at)) != std::string_view::npos) {
      if (at == 0 || text[at - 1] == '\n') break;
      at += key.size();
    }
    if (at == std::string_view::npos) return std::nullopt;
    std::string_view rest = text.substr(at + key.size());
    while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) rest.remove_prefix(1);
    auto end = rest.find_first_not_of("0123456789");
    std::uint64_t value = 0;
    if (!parse_number(rest.substr(0, end), value)) return std::nullopt;
    return value * 1024;
  };
  auto peak = kib("VmHWM:");
  auto rss = kib("VmRSS:");
  if (!peak || !rss) return std::nullopt;
  return StatusMemory{*peak, *rss};
}

std::optional<StatusMemory> ProcFs::status_memory(pid_t pid) const {
  auto text = read_small_file((root_ / std::to_string(pid) / "status").string());
  if (text.empty()) return std::nullopt;
  return parse_status_memory(text);
}

bool ProcFs::reset_peak_rss(pid_t pid) const {
  const std::string path = (root_ / std::to_string(pid) / "clear_refs").string();
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = ::write(fd, "5", 1) == 1;
  ::close(fd);
  return ok;
}

void append_pid_list(std::string_view text, std::vector<pid_t>& out) {
  while (!text.empty()) {
    auto space = text.find(' ');
    pid_t pid = 0;
    if (parse_number(text.substr(0, space), pid)) out.push_back(pid);
    if (space == std::string_view::npos) break;
    text.remove_prefix(space + 1);
  }
}

std::vector<pid_t> ProcFs::descendants(pid_t pid, const std::vector<pid_t>& excluded) const {
  std::vector<pid_t> out;
  std::deque<pid_t> queue{pid};
  while (!queue.empty()) {
    pid_t current = queue.front();
    queue.pop_front();
    for (pid_t child : children(current)) {
      if (std::find(excluded.begin(), excluded.end(), child) != excluded.end()) continue;
      out.push_back(child);
      queue.push_back(child);
    }
  }
  return out;
}

bool ProcFs::environment_contains(pid_t pid, std::string_view entry) const {
  std::string environ = read_small_file((root_ / std::to_string(pid) / "environ").string());
  std::string_view rest = environ;
  while (!rest.empty()) {
    auto nul = rest.find('\0');
    if (rest.substr(0, nul) == entry) return true;
    if (nul == std::string_view::npos) break;
    rest.remove_prefix(nul + 1);
  }
  return false;
}

std::vector<pid_t> ProcFs::all_pids() const { return numeric_entries(root_.string()); }

}  // namespace guardian::process
