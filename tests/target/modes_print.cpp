// Modes that print what the supervised command sees: its arguments, environment,
// process group, session, terminal and cgroup.
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "modes.hpp"
#include "target_support.hpp"

namespace guardian::target {

int mode_print_args(Args args) {
  for (const char* arg : args) say(arg);
  return 0;
}

int mode_print_env(Args args) {
  expect_arg_count("print-env", args, 1, 64);
  int status = 0;
  for (const char* name : args) {
    const char* value = std::getenv(name);
    if (value == nullptr) {
      complain(std::string("guardian-target: ") + name + " is not set");
      status = 1;
      say("");  // keeps the values of later names on their own line numbers
      continue;
    }
    say(value);
  }
  return status;
}

int mode_print_pgid(Args args) {
  expect_arg_count("print-pgid", args, 0, 0);
  const pid_t pid = getpid();
  const pid_t pgid = getpgrp();
  say("pid=" + std::to_string(pid));
  say("ppid=" + std::to_string(getppid()));
  say("pgid=" + std::to_string(pgid));
  say("sid=" + std::to_string(getsid(0)));
  say(std::string("pgid_equals_pid=") + (pgid == pid ? "yes" : "no"));
  // -1 when stdin is not a terminal; otherwise the terminal's foreground group.
  say("tty_foreground_pgid=" + std::to_string(isatty(STDIN_FILENO) ? tcgetpgrp(STDIN_FILENO) : -1));
  return 0;
}

int mode_print_cgroup(Args args) {
  expect_arg_count("print-cgroup", args, 0, 0);
  const int fd = open("/proc/self/cgroup", O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    complain("guardian-target: cannot open /proc/self/cgroup");
    return 1;
  }
  std::string contents;
  char buffer[4096];
  for (ssize_t n; (n = read(fd, buffer, sizeof buffer)) > 0;) contents.append(buffer, static_cast<size_t>(n));
  close(fd);
  while (!contents.empty() && contents.back() == '\n') contents.pop_back();
  say(contents);
  return 0;
}

}  // namespace guardian::target
