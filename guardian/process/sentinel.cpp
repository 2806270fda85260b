#include "guardian/process/sentinel.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "guardian/process/helper_process.hpp"
#include "guardian/process/sentinel_duty.hpp"

namespace guardian::process {

Sentinel Sentinel::start(const std::string& marker_entry, const std::string& program) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return {};
  UniqueFd read_end(fds[0]);
  Sentinel sentinel;
  sentinel.pipe_.reset(fds[1]);
  if (!program.empty()) {
    // posix_spawn (vfork + exec) of a small static executable: nothing of guardian is copied,
    // and the sentinel's exit at the run's end tears down a tiny address space.
    std::string why;
    auto started = start_helper({program, {"guardian-sentinel", marker_entry}, read_end.get()}, why);
    if (started.pid > 0) {
      sentinel.pid_ = started.pid;
      return sentinel;
    }
  }
  // No sentinel executable (a guardian binary copied alone): a fork of guardian does the duty.
  const pid_t pid = ::fork();
  if (pid < 0) return {};
  if (pid == 0) run_sentinel(read_end.get(), marker_entry);
  sentinel.pid_ = pid;
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
void Sentinel::undo_on_death(const std::vector<UndoStep>& steps) {
  for (const auto& step : steps) send(encode(step));
}

void Sentinel::dismiss() {
  if (pid_ <= 0) return;
  send("done");
  pipe_.reset();
  // Not waited for: when it is a forked copy of guardian, tearing its address space down
  // took 20–50 ms of every run's wall time on a loaded machine. It exits on "done" by
  // itself; guardian (its parent and subreaper) reaps it if it is still running, else it is
  // reaped by whoever adopts it when guardian exits.
  ::waitpid(pid_, nullptr, WNOHANG);
  pid_ = -1;
}

}  // namespace guardian::process
