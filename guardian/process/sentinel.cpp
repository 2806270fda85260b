#include "guardian/process/sentinel.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <string_view>
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

[[noreturn]] void sentinel_main(int read_fd, const std::string& marker_entry) {
  ::setsid();  // no terminal, no group signals: only the pipe tells it what to do
  for (int signo : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP, SIGTTIN, SIGTTOU, SIGUSR1, SIGUSR2, SIGPIPE})
    ::signal(signo, SIG_IGN);
  std::vector<pid_t> groups;
  std::vector<std::string> kill_files;
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
  ::_exit(0);
}

}  // namespace

Sentinel Sentinel::start(const std::string& marker_entry) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return {};
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return {};
  }
  if (pid == 0) {
    // Only the pipe stays open (as fd 3), so the sentinel holds no socket, file or pidfd of
    // guardian's. close_range is one call; closing fd by fd cost ~1000 syscalls per run.
    if (fds[0] != 3 && ::dup2(fds[0], 3) != 3) ::_exit(1);  // cannot happen: 3 is a valid target
    if (::close_range(4, ~0U, 0) != 0)                      // before Linux 5.9
      for (int fd = 4; fd < 1024; ++fd) ::close(fd);
    sentinel_main(3, marker_entry);
  }
  ::close(fds[0]);
  Sentinel sentinel;
  sentinel.pid_ = pid;
  sentinel.pipe_.reset(fds[1]);
  return sentinel;
}

Sentinel::~Sentinel() { dismiss(); }

void Sentinel::send(const std::string& line) {
  if (!pipe_) return;
  std::string data = line + "\n";
  [[maybe_unused]] auto written = ::write(pipe_.get(), data.data(), data.size());
}

void Sentinel::watch_group(pid_t pgid) { send("group " + std::to_string(pgid)); }
void Sentinel::watch_cgroup_kill_file(const std::string& path) { send("cgroup " + path); }

void Sentinel::dismiss() {
  if (pid_ <= 0) return;
  send("done");
  pipe_.reset();
  // Not waited for: the sentinel is a forked copy of guardian, and tearing its address space
  // down took 20–50 ms of every run's wall time on a loaded machine. It exits on "done" by
  // itself; guardian (its parent and subreaper) reaps it if it is still running, else it is
  // reaped by whoever adopts it when guardian exits.
  ::waitpid(pid_, nullptr, WNOHANG);
  pid_ = -1;
}

}  // namespace guardian::process
