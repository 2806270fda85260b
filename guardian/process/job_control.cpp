#include "guardian/process/job_control.hpp"

#include <sys/wait.h>

#include <csignal>

namespace guardian::process {

JobControl::JobControl(boost::asio::io_context& io, ForegroundTerminal terminal)
    : sigchld_(io, SIGCHLD), terminal_(terminal) {}

void JobControl::follow(pid_t pid) {
  pid_ = pid;
  running_ = true;
  arm();
}

void JobControl::stop() {
  running_ = false;
  boost::system::error_code ignored;
  sigchld_.cancel(ignored);
}

void JobControl::arm() {
  sigchld_.async_wait([this](const boost::system::error_code& error, int) {
    if (error || !running_) return;
    check_stopped();
    arm();
  });
}

void JobControl::check_stopped() {
  siginfo_t info{};
  // WSTOPPED without WEXITED consumes only the stop report: the exit is still waited for
  // (through the pidfd) by whoever owns the command.
  if (::waitid(P_PID, static_cast<id_t>(pid_), &info, WSTOPPED | WNOHANG) != 0 || info.si_pid != pid_) return;
  int stop_signal = info.si_status;
  // Only stops from the terminal (Ctrl-Z, background I/O) are the user's job control;
  // SIGSTOP is someone else's business (the watchdog's CPU duty cycle, a debugger).
  if (stop_signal != SIGTSTP && stop_signal != SIGTTIN && stop_signal != SIGTTOU) return;
  terminal_.take_back();
  ::raise(SIGTSTP);  // guardian stops here, like the command; the shell sees "Stopped"
  // `fg` (SIGCONT to guardian) lands here: hand the terminal back and wake the command.
  terminal_.give_to(pid_);
  ::kill(-pid_, SIGCONT);
  if (resumed_) resumed_(stop_signal);
}

}  // namespace guardian::process
