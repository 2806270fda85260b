#pragma once
// ProcessActions: how the protector touches a process — renice 19 and ionice idle on every
// thread, or SIGTERM then SIGKILL — always through a pidfd opened and checked against the
// process's start time first, so a pid reused by an unrelated process is never hit.
#include <sys/types.h>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <list>
#include <memory>
#include <string>

#include "guardian/process/unique_fd.hpp"

namespace guardian::monitor {

class ProcessActions {
 public:
  explicit ProcessActions(boost::asio::any_io_executor executor, std::filesystem::path proc_root = "/proc");
  ~ProcessActions();

  /// nice 19 and the idle IO class for each thread. Empty on success, else what failed
  /// ("renicing pid 42 thread 43: Operation not permitted").
  std::string renice_idle(pid_t pid, std::uint64_t start_ticks);

  /// How a terminated process ended: by itself after SIGTERM, or SIGKILLed after kill_after.
  using Ended = std::function<void(pid_t pid, bool killed)>;
  /// SIGTERM now, SIGKILL after `kill_after` unless it is gone. Empty on success.
  std::string terminate(pid_t pid, std::uint64_t start_ticks, std::chrono::milliseconds kill_after, Ended ended);

  /// Abandons pending SIGKILL timers (end of the run).
  void cancel();

 private:
  /// A pidfd for `pid` if it is still the process that started at `start_ticks`.
  process::UniqueFd open_checked(pid_t pid, std::uint64_t start_ticks, std::string& error) const;

  struct Pending {
    process::UniqueFd pidfd;
    boost::asio::posix::stream_descriptor exit_watch;  // a dup of pidfd: readable once the process ends
    boost::asio::steady_timer timer;
    pid_t pid;
    Ended ended;
    bool done = false;
  };
  void finish(Pending* pending, bool killed);
  boost::asio::any_io_executor executor_;
  std::filesystem::path proc_root_;
  std::list<std::unique_ptr<Pending>> pending_;
};

/// Whether the process behind `pidfd` has ended (the pidfd is readable).
bool pidfd_exited(const process::UniqueFd& pidfd);

}  // namespace guardian::monitor
