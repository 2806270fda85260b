#pragma once
// One supervised command and its whole process tree: launched into its own group (and
// its limiter's placement), watched for exit through its pidfd, and stopped with the
// escalation SIGTERM → grace → SIGKILL of every process, escapees included. The main
// command of a run and each dev server are one of these.
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "guardian/limits/limiter.hpp"
#include "guardian/process/exit_status.hpp"
#include "guardian/process/launch.hpp"

namespace guardian::supervise {

class SupervisedCommand {
 public:
  struct Callbacks {
    std::function<void(const process::ExitStatus&)> exited;  // the root process ended
    std::function<void()> finished;                          // root ended and no process is left
  };

  /// `kill_after`: the grace between SIGTERM and SIGKILL, also for leftovers at the end.
  SupervisedCommand(boost::asio::io_context& io, std::string name, process::LaunchSpec spec,
                    std::unique_ptr<limits::Limiter> limiter, std::chrono::milliseconds kill_after,
                    Callbacks callbacks);
  ~SupervisedCommand();

  /// Launches. On failure returns the child's errno (ENOENT, EACCES, …) and nothing runs.
  std::error_code start();

  /// Stop the tree: `signo` to every process, SIGKILL for all after `grace`. Idempotent; a
  /// later call can only shorten the grace.
  void stop(int signo, std::chrono::milliseconds grace);
  /// SIGKILL every process of the tree now.
  void escalate();
  /// Sends a signal to the command's process group only (relay).
  void relay(int signo) const;

  const std::string& name() const { return name_; }
  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0 && !exit_status_; }
  bool stopping() const { return stopping_; }
  bool escalated() const { return escalated_; }
  std::size_t leftovers_signalled() const { return leftovers_signalled_; }
  /// How many processes the stop signal reached (the tree's size when it was stopped).
  std::size_t processes_signalled() const { return processes_signalled_; }
  const std::optional<process::ExitStatus>& exit_status() const { return exit_status_; }
  limits::Limiter& limiter() { return *limiter_; }

 private:
  void on_exit(const process::ExitStatus& status);
  void arm_grace(std::chrono::milliseconds grace);
  void maybe_finished();

  boost::asio::io_context& io_;
  std::string name_;
  process::LaunchSpec spec_;
  std::unique_ptr<limits::Limiter> limiter_;
  std::chrono::milliseconds kill_after_;
  Callbacks callbacks_;
  std::optional<process::Process> process_;
  pid_t pid_ = -1;
  std::optional<process::ExitStatus> exit_status_;
  boost::asio::steady_timer grace_timer_;
  std::chrono::steady_clock::time_point kill_deadline_ = std::chrono::steady_clock::time_point::max();
  bool stopping_ = false;
  bool escalated_ = false;
  bool tree_empty_ = false;
  bool finished_ = false;
  std::size_t leftovers_signalled_ = 0;
  std::size_t processes_signalled_ = 0;
};

}  // namespace guardian::supervise
