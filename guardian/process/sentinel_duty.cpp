#include "guardian/process/sentinel_duty.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <thread>
#include <vector>

#include "guardian/process/proc_tree.hpp"

namespace guardian::process {
namespace {


void kill_marked_processes(const std::string& marker_entry) {
  ProcFs proc;
  pid_t self = ::getpid();
  // Rounds, because a process may fork between our scan and our kill.
  for (int round = 0; round < 50; ++round) {
    std::size_t found = 0;
    for (pid_t pid : proc.all_pids()) {
      if (pid == self) continue;
      auto st = proc.stat(pid);
      if (!st || !st->alive()) continue;
      if (!proc.environment_contains(pid, marker_entry)) continue;
      ::kill(pid, SIGKILL);
      ++found;
    }
    if (found == 0) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

bool remove_cgroup_tree(const std::string& dir) {
  if (DIR* listing = ::opendir(dir.c_str())) {
    std::vector<std::string> children;
    while (dirent* entry = ::readdir(listing))
      if (entry->d_type == DT_DIR && std::string_view(entry->d_name) != "." && std::string_view(entry->d_name) != "..")
        children.emplace_back(entry->d_name);
    ::closedir(listing);
    for (const auto& child : children)
      if (!remove_cgroup_tree(dir + "/" + child)) return false;
  }
  return ::rmdir(dir.c_str()) == 0 || errno == ENOENT;
}

void write_file(const std::string& path, const std::string& value) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return;
  [[maybe_unused]] auto written = ::write(fd, value.data(), value.size());
  ::close(fd);
}

void undo(const std::vector<UndoStep>& steps) {
  for (const auto& step : steps) {
    switch (step.kind) {
      case UndoStep::Kind::remove_tree:
        // Killed processes leave their cgroup when they are gone: up to 5 s.
        for (int attempt = 0; attempt < 250 && !remove_cgroup_tree(step.path); ++attempt)
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
        break;
      case UndoStep::Kind::write: write_file(step.path, step.value); break;
      case UndoStep::Kind::move_self: write_file(step.path, std::to_string(::getpid())); break;
    }
  }
}

}  // namespace

std::string encode(const UndoStep& step) {
  const char* kind = step.kind == UndoStep::Kind::remove_tree ? "remove_tree"
                     : step.kind == UndoStep::Kind::write     ? "write"
                                                              : "move_self";
  return std::string("undo ") + kind + " " + step.path + "\t" + step.value;
}

std::optional<UndoStep> decode(std::string_view line) {
  if (!line.starts_with("undo ")) return std::nullopt;
  line.remove_prefix(5);
  auto space = line.find(' '), tab = line.find('\t');
  if (space == std::string_view::npos || tab == std::string_view::npos || tab < space) return std::nullopt;
  UndoStep step;
  auto kind = line.substr(0, space);
  if (kind == "remove_tree") step.kind = UndoStep::Kind::remove_tree;
  else if (kind == "write") step.kind = UndoStep::Kind::write;
  else if (kind == "move_self") step.kind = UndoStep::Kind::move_self;
  else return std::nullopt;
  step.path = std::string(line.substr(space + 1, tab - space - 1));
  step.value = std::string(line.substr(tab + 1));
  return step;
}

void run_sentinel(int read_fd, const std::string& marker_entry) {
  // Only the pipe stays open, so the sentinel holds no socket, file or pidfd of guardian's.
  // close_range is one call (before Linux 5.9: one by one).
  if (read_fd != 3 && ::dup2(read_fd, 3) != 3) ::_exit(1);
  read_fd = 3;
  if (::close_range(4, ~0U, 0) != 0)
    for (int fd = 4; fd < 1024; ++fd) ::close(fd);
  ::setsid();  // no terminal, no group signals: only the pipe tells it what to do (fails, harmlessly, for a group leader)
  for (int signo : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP, SIGTTIN, SIGTTOU, SIGUSR1, SIGUSR2, SIGPIPE})
    ::signal(signo, SIG_IGN);
  std::vector<pid_t> groups;
  std::vector<std::string> kill_files;
  std::vector<UndoStep> undo_steps;
  std::string buffer;
  char chunk[256];
  while (true) {
    ssize_t n = ::read(read_fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // EOF: guardian is gone
    buffer.append(chunk, static_cast<std::size_t>(n));
    std::size_t newline;
    while ((newline = buffer.find('\n')) != std::string::npos) {
      std::string line = buffer.substr(0, newline);
      buffer.erase(0, newline + 1);
      if (line == "done") ::_exit(0);
      if (line.rfind("group ", 0) == 0) groups.push_back(std::stoi(line.substr(6)));
      if (line.rfind("cgroup ", 0) == 0) kill_files.push_back(line.substr(7));
      if (auto step = decode(line)) undo_steps.push_back(std::move(*step));
    }
  }
  for (pid_t pgid : groups) ::kill(-pgid, SIGKILL);
  for (const auto& file : kill_files) {
    int fd = ::open(file.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd >= 0) {
      [[maybe_unused]] auto written = ::write(fd, "1", 1);
      ::close(fd);
    }
  }
  kill_marked_processes(marker_entry);
  undo(undo_steps);
  ::_exit(0);
}


}  // namespace guardian::process
