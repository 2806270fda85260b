#include "guardian/process/terminal.hpp"

#include <termios.h>
#include <unistd.h>

#include <csignal>

namespace guardian::process {
namespace {

// tcsetpgrp from a background group raises SIGTTOU; guardian must not stop itself.
void set_foreground(int fd, pid_t pgid) {
  sigset_t ttou, old;
  sigemptyset(&ttou);
  sigaddset(&ttou, SIGTTOU);
  ::sigprocmask(SIG_BLOCK, &ttou, &old);
  ::tcsetpgrp(fd, pgid);
  ::sigprocmask(SIG_SETMASK, &old, nullptr);
}

}  // namespace

std::optional<ForegroundTerminal> ForegroundTerminal::detect() {
  if (!::isatty(STDIN_FILENO)) return std::nullopt;
  pid_t foreground = ::tcgetpgrp(STDIN_FILENO);
  if (foreground < 0 || foreground != ::getpgrp()) return std::nullopt;
  ForegroundTerminal terminal;
  terminal.fd_ = STDIN_FILENO;
  terminal.own_pgid_ = ::getpgrp();
  return terminal;
}

void ForegroundTerminal::give_to(pid_t pgid) const { set_foreground(fd_, pgid); }

void ForegroundTerminal::take_back() const { set_foreground(fd_, own_pgid_); }

}  // namespace guardian::process
