#pragma once
// What `guardian run` adds to a session: the command and its adapters. It holds the
// command's tree (its limiter, the terminal's foreground, job control, the --timeout), the
// test-runner adapter (pytest events, --test-timeout) and the CI adapter, and turns the
// command's end into the report's outcome and guardian's exit code.
#include <boost/asio/steady_timer.hpp>
#include <filesystem>
#include <functional>
#include <optional>
#include <system_error>

#include "adapters/ci/ci_run.hpp"
#include "adapters/pytest/pytest_adapter.hpp"
#include "guardian/context/run_context.hpp"
#include "guardian/limits/limiter.hpp"
#include "guardian/limits/run_cgroups.hpp"
#include "guardian/process/exit_status.hpp"
#include "guardian/process/job_control.hpp"
#include "guardian/process/orphan_reaper.hpp"
#include "guardian/process/sentinel.hpp"
#include "guardian/process/terminal.hpp"
#include "guardian/servers/dev_server_fleet.hpp"
#include "guardian/supervise/supervised_command.hpp"

namespace guardian::session {

class MainCommand {
 public:
  /// `program` is the command's argv[0], already found on PATH.
  MainCommand(context::RunContext& context, std::filesystem::path program);

  /// Before the sentinel forks: the adapters (they set context.running_test).
  void attach();
  /// Launches the command beside the running servers; `finished` runs once its tree is
  /// empty. Empty: running. Otherwise guardian's exit code (the launch failed; printed and
  /// reported, nothing runs). `run_cgroups`: the session's, shared with the servers.
  std::optional<int> launch(process::OrphanReaper& reaper, process::Sentinel& sentinel,
                            servers::DevServerFleet& fleet, limits::RunCgroups& run_cgroups,
                            std::function<void()> finished);
  /// Processes of guardian's own (the plugin host) that the command's tree never includes.
  void exclude_subtrees_of(std::function<bool(pid_t)> is_helper) { helpers_ = std::move(is_helper); }

  bool running() const { return command_ && command_->running(); }
  pid_t pid() const { return command_ ? command_->pid() : -1; }
  /// What the command's tree uses now (for the monitor's view of the whole run).
  std::optional<limits::TreeUsage> usage();
  /// The limiter holding the command's tree, once launched.
  limits::Limiter* limiter() { return command_ ? &command_->limiter() : nullptr; }
  /// SIGINT/SIGTERM/SIGHUP reached guardian: relay, stop, or kill at the second one.
  void on_stop_signal(int signo);
  /// SIGQUIT/SIGUSR1/SIGUSR2: to the command's group.
  void relay(int signo);
  /// A server gave up: the command stops (the run then ends with 125).
  void stop();

  /// After the loop: the command's part of the report (exit status, enforcement, outcome
  /// and exit code, ceiling kills), then the adapters' own endings (pytest, --junit).
  void finish_report(report::RunReport& report);
  /// The CI adapter's last words (job summary, GitLab section end), after run.finished.
  void finish_ci();
  std::size_t leftovers_signalled() const { return command_ ? command_->leftovers_signalled() : 0; }
  std::size_t processes_signalled() const { return command_ ? command_->processes_signalled() : 0; }

 private:
  std::function<bool(pid_t)> helpers_;
  std::optional<int> launch_failed(const std::error_code& error);
  void on_timeout();
  void on_ceiling_breach(const limits::Breach& breach);
  void on_command_exit(const process::ExitStatus& status);
  void on_tree_finished();

  context::RunContext& context_;
  std::filesystem::path program_;
  servers::DevServerFleet* fleet_ = nullptr;
  std::function<void()> finished_;
  std::optional<process::ForegroundTerminal> terminal_;
  std::optional<process::JobControl> job_control_;
  std::optional<supervise::SupervisedCommand> command_;
  std::optional<adapters::pytest::PytestAdapter> tests_;
  std::optional<adapters::ci::CiRun> ci_;
  boost::asio::steady_timer timeout_timer_;
  std::optional<process::ExitStatus> exit_status_;
  int stop_signals_ = 0;
};

}  // namespace guardian::session
