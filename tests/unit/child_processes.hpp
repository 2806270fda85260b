#pragma once
// Real child processes for the /proc tests: sleepers that run only when the test wakes them
// (whether a process ran is what the caches key on), and a guard that ends a process group
// whatever the test's outcome.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <functional>
#include <utility>

#include "guardian/process/proc_tree.hpp"

namespace guardian::testing {

/// A child blocked reading a pipe: each wake() makes it run `on_wake` once, then it blocks
/// again. With `own_group`, it leads a process group of its own, and the group (what
/// `on_wake` forked included) is killed with it.
class WakeableChild {
 public:
  explicit WakeableChild(std::function<void()> on_wake, bool own_group = false) : own_group_(own_group) {
    int fds[2];
    if (::pipe(fds) != 0) std::abort();
    pid_ = ::fork();
    if (pid_ == 0) {
      if (own_group_) ::setpgid(0, 0);
      ::close(fds[1]);
      char byte;
      while (::read(fds[0], &byte, 1) == 1) on_wake();
      ::pause();
      ::_exit(0);
    }
    if (own_group_) ::setpgid(pid_, pid_);  // from both sides: the group exists before kill(-pid)
    ::close(fds[0]);
    wake_ = fds[1];
  }
  ~WakeableChild() {
    ::close(wake_);
    ::kill(own_group_ ? -pid_ : pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  WakeableChild(const WakeableChild&) = delete;
  WakeableChild& operator=(const WakeableChild&) = delete;

  pid_t pid() const { return pid_; }
  bool wake() { return ::write(wake_, "x", 1) == 1; }

 private:
  bool own_group_;
  pid_t pid_ = -1;
  int wake_ = -1;
};

/// Kills the process group `leader` leads and reaps the leader when the test ends, whatever
/// its outcome: a failed assertion must not leave processes holding the test's output open
/// (ctest then waits for them until its timeout).
struct KillGroupAtExit {
  pid_t leader;
  explicit KillGroupAtExit(pid_t group_leader) : leader(group_leader) {}
  KillGroupAtExit(const KillGroupAtExit&) = delete;
  KillGroupAtExit& operator=(const KillGroupAtExit&) = delete;
  ~KillGroupAtExit() {
    ::kill(-leader, SIGKILL);
    ::waitpid(leader, nullptr, 0);
  }
};

/// A child that sleeps until killed, with one grandchild doing the same, in its own group.
inline pid_t start_sleeper_with_child() {
  pid_t pid = ::fork();
  if (pid == 0) {
    ::setpgid(0, 0);  // its own group, so the test can kill both at once
    if (::fork() == 0) {
      ::pause();
      ::_exit(0);
    }
    ::pause();
    ::_exit(0);
  }
  return pid;
}

inline void wait_for_children_listed(const process::ProcFs& proc, pid_t pid) {
  for (int i = 0; i < 500 && proc.children(pid).empty(); ++i) ::usleep(2000);
}

}  // namespace guardian::testing
