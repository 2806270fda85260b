// Modes that build process trees, including children that leave their process
// group or session the way daemons do, so tests can prove none of them survives.
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "modes.hpp"
#include "target_support.hpp"

namespace guardian::target {
namespace {

bool write_int(int fd, int value) {
  return write(fd, &value, sizeof value) == static_cast<ssize_t>(sizeof value);
}

bool read_int(int fd, int& value) {
  size_t got = 0;
  auto* bytes = reinterpret_cast<char*>(&value);
  while (got < sizeof value) {
    const ssize_t n = read(fd, bytes + got, sizeof value - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    got += static_cast<size_t>(n);
  }
  return true;
}

// Forks `width` children per level down to `depth` levels below the caller and
// returns the number of processes in the caller's subtree (itself included) once
// every one of them is running. Every forked process sleeps until `deadline`.
int build_tree(long depth, long width, const timespec& deadline) {
  if (depth == 0) return 1;
  int ready_pipe[2];
  if (pipe(ready_pipe) != 0) {
    complain(std::string("guardian-target: fork-tree: pipe: ") + std::strerror(errno));
    return 1;
  }
  long forked = 0;
  for (long i = 0; i < width; ++i) {
    const pid_t pid = fork();
    if (pid < 0) {
      // Expected under a pids limit: report it and count only what really runs.
      complain(std::string("guardian-target: fork-tree: fork: ") + std::strerror(errno));
      break;
    }
    if (pid == 0) {
      close(ready_pipe[0]);
      const int subtree = build_tree(depth - 1, width, deadline);
      write_int(ready_pipe[1], subtree);
      close(ready_pipe[1]);
      sleep_until(deadline);
      _exit(0);
    }
    ++forked;
  }
  close(ready_pipe[1]);
  int total = 1;
  for (long i = 0; i < forked; ++i) {
    int subtree = 0;
    if (!read_int(ready_pipe[0], subtree)) break;  // a child died before reporting
    total += subtree;
  }
  close(ready_pipe[0]);
  return total;
}

// The shared body of setsid-escape and double-fork: an intermediate child forks a
// grandchild and exits, so the grandchild is reparented away from its real parent.
int escape(Args args, const char* mode, bool new_session) {
  expect_arg_count(mode, args, 1, 2);
  const double seconds = parse_seconds(args[0], "SECONDS");
  // By default the escapee outlives the command by 30 s, so a supervisor that only
  // waits for its direct child visibly leaves it behind.
  const double escapee_seconds =
      args.size() > 1 ? parse_seconds(args[1], "ESCAPEE_SECONDS") : seconds + 30.0;
  const timespec deadline = deadline_after(seconds);
  const timespec escapee_deadline = deadline_after(escapee_seconds);
  int pid_pipe[2];
  if (pipe(pid_pipe) != 0) return 5;
  const pid_t intermediate = fork();
  if (intermediate < 0) return 5;
  if (intermediate == 0) {
    close(pid_pipe[0]);
    if (new_session && setsid() < 0) _exit(6);
    const pid_t escapee = fork();
    if (escapee < 0) _exit(5);
    if (escapee == 0) {
      write_int(pid_pipe[1], static_cast<int>(getpid()));
      close(pid_pipe[1]);
      sleep_until(escapee_deadline);
      _exit(0);
    }
    _exit(0);
  }
  close(pid_pipe[1]);
  int escapee_pid = 0;
  const bool got_pid = read_int(pid_pipe[0], escapee_pid);
  close(pid_pipe[0]);
  int status = 0;
  while (waitpid(intermediate, &status, 0) < 0 && errno == EINTR) {
  }
  if (!got_pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    complain(std::string("guardian-target: ") + mode + ": could not start the escapee");
    return 5;
  }
  say("escapee " + std::to_string(escapee_pid));
  say("ready");
  sleep_until(deadline);
  return 0;
}

}  // namespace

int mode_fork_tree(Args args) {
  expect_arg_count("fork-tree", args, 3, 4);
  const long depth = parse_long(args[0], "DEPTH");
  const long width = parse_long(args[1], "WIDTH");
  if (depth < 0 || width < 0 || depth > 16 || width > 64) usage_error("fork-tree: DEPTH 0..16, WIDTH 0..64");
  const double seconds = parse_seconds(args[2], "SECONDS");
  // The root may end earlier than its descendants, leaving them for the supervisor.
  const double root_seconds = args.size() > 3 ? parse_seconds(args[3], "ROOT_SECONDS") : seconds;
  const timespec deadline = deadline_after(seconds);
  const timespec root_deadline = deadline_after(root_seconds);
  const int total = build_tree(depth, width, deadline);
  say("tree " + std::to_string(total));
  say("ready");
  sleep_until(root_deadline);
  return 0;
}

// A fork bomb that never lets up: every process forks copies of itself in a loop, and a
// refused fork is retried, never fatal (a shell's `bomb & bomb` dies at its first refused fork,
// so such a bomb can burn itself out). Ends only when killed.
int mode_fork_bomb(Args args) {
  expect_arg_count("fork-bomb", args, 0, 0);
  say("ready");
  for (;;) {
    const pid_t child = ::fork();
    if (child < 0) ::usleep(1000);  // at the ceiling: try again, as a bomb does
  }
}

int mode_setsid_escape(Args args) { return escape(args, "setsid-escape", true); }

int mode_double_fork(Args args) { return escape(args, "double-fork", false); }

}  // namespace guardian::target
