#include "guardian/monitor/process_actions.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <boost/asio/post.hpp>
#include <fmt/format.h>

#include "guardian/process/pidfd.hpp"
#include "guardian/process/proc_tree.hpp"

namespace guardian::monitor {
namespace {

// From linux/ioprio.h, which older libc headers do not ship.
constexpr int kIoprioWhoProcess = 1;
constexpr int kIoprioClassIdle = 3;
constexpr int kIoprioClassShift = 13;

std::vector<pid_t> threads_of(const std::filesystem::path& proc_root, pid_t pid) {
  std::vector<pid_t> out;
  DIR* dir = ::opendir((proc_root / std::to_string(pid) / "task").c_str());
  if (!dir) return out;
  while (auto* entry = ::readdir(dir)) {
    char* end = nullptr;
    long tid = std::strtol(entry->d_name, &end, 10);
    if (end != entry->d_name && *end == '\0') out.push_back(static_cast<pid_t>(tid));
  }
  ::closedir(dir);
  return out;
}

}  // namespace

bool pidfd_exited(const process::UniqueFd& pidfd) {
  pollfd fds{pidfd.get(), POLLIN, 0};
  return ::poll(&fds, 1, 0) > 0 && (fds.revents & (POLLIN | POLLHUP)) != 0;
}

ProcessActions::ProcessActions(boost::asio::any_io_executor executor, std::filesystem::path proc_root)
    : executor_(std::move(executor)), proc_root_(std::move(proc_root)) {}

ProcessActions::~ProcessActions() { cancel(); }

process::UniqueFd ProcessActions::open_checked(pid_t pid, std::uint64_t start_ticks, std::string& error) const {
  std::error_code code;
  auto pidfd = process::open_pidfd(pid, code);
  if (!pidfd) {
    error = fmt::format("opening a pidfd for pid {}: {}", pid, code.message());
    return {};
  }
  // The pidfd now pins one process; if that process is not the one we measured, the pid
  // was reused between the walk and now, and it must be left alone.
  auto st = process::ProcFs(proc_root_).stat(pid);
  if (!st || st->start_ticks != start_ticks || !st->alive()) {
    error = fmt::format("pid {} is no longer the process that was measured (it ended)", pid);
    return {};
  }
  return pidfd;
}

std::string ProcessActions::renice_idle(pid_t pid, std::uint64_t start_ticks) {
  std::string error;
  auto pidfd = open_checked(pid, start_ticks, error);
  if (!pidfd) return error;
  // setpriority and ioprio_set act on one thread on Linux: do every thread. Threads
  // created later inherit from the thread that creates them.
  for (pid_t tid : threads_of(proc_root_, pid)) {
    if (::setpriority(PRIO_PROCESS, static_cast<id_t>(tid), 19) != 0 && errno != ESRCH)
      return fmt::format("renicing pid {} thread {}: {}", pid, tid, std::strerror(errno));
    if (::syscall(SYS_ioprio_set, kIoprioWhoProcess, tid, kIoprioClassIdle << kIoprioClassShift) != 0 &&
        errno != ESRCH)
      return fmt::format("setting the idle IO class of pid {} thread {}: {}", pid, tid, std::strerror(errno));
  }
  if (pidfd_exited(pidfd)) return fmt::format("pid {} ended while being reniced", pid);
  return {};
}

std::string ProcessActions::terminate(pid_t pid, std::uint64_t start_ticks, std::chrono::milliseconds kill_after,
                                      Ended ended) {
  std::string problem;
  auto pidfd = open_checked(pid, start_ticks, problem);
  if (!pidfd) return problem;
  if (auto code = process::send_signal(pidfd, SIGTERM))
    return fmt::format("sending SIGTERM to pid {}: {}", pid, code.message());
  auto pending = std::make_unique<Pending>(Pending{std::move(pidfd), boost::asio::posix::stream_descriptor(executor_),
                                                   boost::asio::steady_timer(executor_), pid, std::move(ended)});
  Pending* raw = pending.get();
  pending_.push_back(std::move(pending));
  // Learn of the exit as it happens (a pidfd polls readable when its process ends) …
  if (int watch_fd = ::fcntl(raw->pidfd.get(), F_DUPFD_CLOEXEC, 0); watch_fd >= 0) {
    raw->exit_watch.assign(watch_fd);
    raw->exit_watch.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                               [this, raw](const boost::system::error_code& error) {
                                 if (!error) finish(raw, false);
                               });
  }
  // … and SIGKILL it if it is still there after kill_after.
  raw->timer.expires_after(kill_after);
  raw->timer.async_wait([this, raw](const boost::system::error_code& error) {
    if (error) return;  // cancelled: it ended, or the run is ending
    bool killed = false;
    if (!pidfd_exited(raw->pidfd)) {
      process::send_signal(raw->pidfd, SIGKILL);
      killed = true;
    }
    finish(raw, killed);
  });
  return {};
}

void ProcessActions::finish(Pending* pending, bool killed) {
  if (pending->done) return;
  pending->done = true;
  boost::system::error_code ignored;
  pending->timer.cancel();
  pending->exit_watch.cancel(ignored);
  Ended ended = std::move(pending->ended);
  pid_t pid = pending->pid;
  // Destroyed later, from a fresh handler: its own handlers may still be queued.
  boost::asio::post(executor_, [this, pending] {
    pending_.remove_if([pending](const auto& p) { return p.get() == pending; });
  });
  if (ended) ended(pid, killed);
}

void ProcessActions::cancel() {
  for (auto& pending : pending_) {
    pending->timer.cancel();
    // The run is ending: a process that has already ended after its SIGTERM is said so now
    // (its exit and the run's end can be seen in the same turn of the loop, the end first);
    // one still running goes with the rest of the tree.
    if (!pending->done && pidfd_exited(pending->pidfd)) {
      pending->done = true;
      if (pending->ended) pending->ended(pending->pid, false);
    }
  }
  pending_.clear();
}

}  // namespace guardian::monitor
