#include "guardian/session/main_command.hpp"

#include <unistd.h>

#include <csignal>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "adapters/junit/junit_adapter.hpp"
#include "guardian/config/quantity.hpp"
#include "guardian/limits/limit_alerts.hpp"
#include "guardian/limits/make_limiter.hpp"
#include "guardian/monitor/monitor.hpp"

extern char** environ;

namespace guardian::session {
namespace {

using process::ExitStatus;
namespace exit_code = process::exit_code;

std::vector<std::string> child_environment(const context::RunContext& context) {
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string_view entry(*e);
    if (entry.starts_with("GUARDIAN_RUN_ID=") || entry.starts_with("GUARDIAN_RUN_DIR=")) continue;
    env.emplace_back(entry);
  }
  env.push_back("GUARDIAN_RUN_ID=" + context.run_id);
  env.push_back("GUARDIAN_RUN_DIR=" + context.run_dir.string());
  return env;
}

}  // namespace

MainCommand::MainCommand(context::RunContext& context, std::filesystem::path program)
    : context_(context), program_(std::move(program)), timeout_timer_(context.io) {}

void MainCommand::attach() {
  tests_.emplace(context_);  // pytest events (adapters/pytest): failures, running test, report section
  tests_->start();
  ci_.emplace(context_);  // CI (adapters/ci): annotations, job summary, GitLab section, cancel grace
  ci_->start();
  context_.running_test = [this] { return tests_->running_test(); };
  tests_->on_test_timeout([this](const adapters::pytest::RunningTest& test) {
    if (!running()) return;
    context_.report.stop_reason = "test timeout: " + test.nodeid;
    context_.report.killed_by = "test_timeout";
    command_->stop(SIGTERM, context_.options.kill_after);
  });
}

std::optional<int> MainCommand::launch(process::OrphanReaper& reaper, process::Sentinel& sentinel,
                                       servers::DevServerFleet& fleet, limits::RunCgroups& run_cgroups,
                                       std::function<void()> finished) {
  fleet_ = &fleet;
  finished_ = std::move(finished);
  const auto& options = context_.options;
  process::TreeMembership membership(process::ProcFs{}, ::getpid(), context_.marker_entry);
  membership.exclude_subtree(sentinel.pid());
  if (helpers_) membership.exclude_subtrees_of(helpers_);
  membership.claim_unmarked_orphans(true);  // everything under guardian belongs to this run
  fleet.exclude_from(membership);
  auto limiter = limits::make_limiter(limits::LimiterRequest{
      context_.config, context_.io.get_executor(), std::move(membership), "main",
      context_.limits_fallback, &run_cgroups});
  limiter->on_breach([this](const limits::Breach& breach) { on_ceiling_breach(breach); });
  if (auto kill_file = limiter->kill_file(); !kill_file.empty()) sentinel.watch_cgroup_kill_file(kill_file);
  sentinel.undo_on_death(limiter->undo_after_death());
  fleet.watch_main_tree(*limiter);  // servers restarted later stay out of the command's tree
  context_.report.enforcement = limiter->report();
  std::string limits_line = limiter->summary();

  process::LaunchSpec spec;
  spec.program = program_;
  spec.argv = options.command;
  spec.environment = child_environment(context_);
  tests_->add_environment(spec.environment);
  spec.working_dir = options.working_dir;
  terminal_ = process::ForegroundTerminal::detect();
  if (terminal_) spec.foreground_terminal_fd = terminal_->fd();

  command_.emplace(context_.io, "main", std::move(spec), std::move(limiter), options.kill_after,
                   supervise::SupervisedCommand::Callbacks{
                       [this](const ExitStatus& status) { on_command_exit(status); },
                       [this] { on_tree_finished(); }});

  context_.console.info(fmt::format("running '{}' · mode {} · {} · run {}", fmt::join(options.command, " "),
                                    options.mode, limits_line, context_.run_id));
  context_.log.info("supervisor", "run.started", "run started",
                    {{"command", options.command}, {"mode", options.mode}, {"run_dir", context_.run_dir.string()},
                     {"enforcement", context_.report.enforcement}});

  if (auto error = command_->start()) return launch_failed(error);
  pid_t pid = command_->pid();
  reaper.own(pid);
  sentinel.watch_group(pid);
  if (terminal_) {
    terminal_->give_to(pid);
    job_control_.emplace(context_.io, *terminal_);
    job_control_->on_resumed([this](int stop_signal) {
      context_.log.info("supervisor", "job.resumed",
                        fmt::format("the command was stopped by {}; guardian stopped with it and resumed",
                                    process::signal_name(stop_signal)));
    });
    job_control_->follow(pid);
  }
  context_.log.info("supervisor", "child.started", fmt::format("started pid {}", pid), {{"pid", pid}});
  if (options.timeout) {
    timeout_timer_.expires_after(*options.timeout);
    timeout_timer_.async_wait([this](const boost::system::error_code& error) {
      if (!error) on_timeout();
    });
  }
  return std::nullopt;
}

std::optional<int> MainCommand::launch_failed(const std::error_code& error) {
  const auto& command = context_.options.command;
  auto& report = context_.report;
  int code = exit_code::guardian_failed;
  std::string message;
  if (error.value() == ENOENT) {
    code = exit_code::not_found;
    report.outcome = "not_found";
    message = fmt::format("cannot start '{}': {} (a missing interpreter in its #! line?). Check the "
                          "program and its first line.", command[0], error.message());
  } else if (error.value() == EACCES || error.value() == ENOEXEC || error.value() == EISDIR) {
    code = exit_code::not_executable;
    report.outcome = "not_executable";
    message = fmt::format("cannot execute '{}': {}. Make it an executable program (chmod +x, a #! line) "
                          "or run it through its interpreter.", command[0], error.message());
  } else {
    report.outcome = "failed_to_start";
    message = fmt::format("could not start '{}': {}. Nothing was started.", command[0], error.message());
  }
  context_.console.error(message);
  context_.log.write(report::Level::error, "supervisor", "child.launch_failed", message, {{"errno", error.value()}});
  command_.reset();
  return code;
}

std::optional<limits::TreeUsage> MainCommand::usage() {
  if (!command_) return std::nullopt;
  return command_->limiter().sample();
}

void MainCommand::relay(int signo) {
  if (!command_) return;
  command_->relay(signo);
  context_.log.info("supervisor", "signal.relayed", fmt::format("relayed {}", process::signal_name(signo)),
                    {{"signal", process::signal_name(signo)}});
}

void MainCommand::stop() {
  if (running()) command_->stop(SIGTERM, context_.options.kill_after);
}

void MainCommand::on_stop_signal(int signo) {
  std::string name = process::signal_name(signo);
  if (!running()) return;
  bool second = stop_signals_ > 0 && (signo == SIGINT || signo == SIGTERM);
  ++stop_signals_;
  if (signo == SIGHUP) {  // relayed, not a stop request: the command decides
    command_->relay(signo);
    context_.log.info("supervisor", "signal.relayed", "relayed SIGHUP", {{"signal", name}});
    return;
  }
  if (second) {
    context_.log.warning("supervisor", "stop.escalated", fmt::format("second {}: killing the tree now", name),
                         {{"signal", name}});
    context_.console.info(fmt::format("second {}: killing everything now", name));
    command_->escalate();
    return;
  }
  context_.report.stop_reason = "signal " + name;
  const auto grace = ci_->stop_grace(context_.options.kill_after);  // shorter under GitHub Actions' cancel
  context_.log.info("supervisor", "stop.requested",
                    fmt::format("{} received: relayed; SIGKILL in {} unless it ends", name, config::format_duration(grace)),
                    {{"signal", name}, {"kill_after_ms", grace.count()}});
  command_->stop(signo, grace);
}

void MainCommand::on_timeout() {
  if (!running()) return;
  const auto& options = context_.options;
  context_.report.timed_out = true;
  context_.report.stop_reason = "timeout";
  context_.report.killed_by = "timeout";
  std::string message = fmt::format("timed out after {}: stopping '{}' (SIGTERM, then SIGKILL after {})",
                                    config::format_duration(*options.timeout), options.command[0],
                                    config::format_duration(options.kill_after));
  context_.console.error(message);
  context_.log.warning("supervisor", "timeout.expired", message, {{"timeout_ms", options.timeout->count()}});
  command_->stop(SIGTERM, options.kill_after);
}

// A ceiling the tree hit (limits/): a memory-ceiling kill, or a fork bomb ended at its pids
// ceiling, is named everywhere and ends the run with 137; the watchdog leaves the stopping
// to us, the kernel (or the cgroup limiter) has already killed.
void MainCommand::on_ceiling_breach(const limits::Breach& breach) {
  auto& report = context_.report;
  const bool memory = breach.kind == limits::Breach::Kind::memory_ceiling;
  if (!breach.tree_ended) {
    context_.console.error(breach.message);
    context_.log.warning("limits", "pids.ceiling", breach.message, breach.to_json());
    return;
  }
  report.killed_by = memory ? "memory_ceiling" : "pids_ceiling";
  if (!report.stop_reason) report.stop_reason = memory ? "memory ceiling" : "pids ceiling";
  report.sections["ceiling_kill"] = breach.to_json();
  auto test = tests_->running_test();  // "brought down by tests/test_x.py::test_y"
  std::string during = test.is_null() ? "" : " (while running " + test.value("nodeid", "") + ")";
  if (!test.is_null()) report.sections["ceiling_kill"]["running_test"] = test;
  context_.console.error(breach.message + during + " — exit 137");
  context_.log.write(report::Level::error, "limits", memory ? "memory.ceiling_kill" : "pids.ceiling_kill",
                     breach.message + during, breach.to_json());
  auto alert = limits::ceiling_kill_alert(breach, "main", context_.options.command.at(0));
  if (!test.is_null()) {
    alert.message += during;
    alert.context["running_test"] = test;
  }
  context_.alerts.raise(std::move(alert));
  if (context_.monitor)
    context_.monitor->pulse(monitor::Severity::critical, breach.message);  // a ceiling kill: CRITICAL at once
  if (!breach.kernel_killed) command_->stop(SIGTERM, breach.grace);
}

void MainCommand::on_command_exit(const ExitStatus& status) {
  exit_status_ = status;
  timeout_timer_.cancel();
  if (fleet_ && !fleet_->stopping()) fleet_->stop();  // the command has ended: its servers too
  if (terminal_) terminal_->take_back();
  context_.log.info("supervisor", "child.exited", status.describe(),
                    {{"exit_code", status.kind == ExitStatus::Kind::exited ? nlohmann::json(status.code) : nullptr},
                     {"signal", status.kind == ExitStatus::Kind::signaled
                                    ? nlohmann::json(process::signal_name(status.signal))
                                    : nullptr}});
}

void MainCommand::on_tree_finished() {
  if (command_->leftovers_signalled() > 0)
    context_.log.info("supervisor", "tree.swept",
                      fmt::format("ended {} process(es) the command left behind", command_->leftovers_signalled()),
                      {{"processes", command_->leftovers_signalled()}});
  if (command_->escalated())
    context_.log.warning("supervisor", "tree.killed", "the tree did not end within the grace period: SIGKILL sent");
  if (job_control_) job_control_->stop();
  if (finished_) finished_();
}

void MainCommand::finish_report(report::RunReport& report) {
  if (command_) {
    report.leftover_processes_killed = command_->leftovers_signalled();
    report.escalated_to_kill = command_->escalated();
    const ExitStatus status = exit_status_.value_or(ExitStatus{});
    if (status.kind == ExitStatus::Kind::signaled) report.signal = status.signal;
    else report.child_exit_code = status.code;
    // What the limiter knows at the end: throttling, peaks, OOM kills (cgroup: read before removal).
    report.enforcement = command_->limiter().report();
    report.peak_memory_bytes =
        std::max(report.peak_memory_bytes, command_->limiter().sample().memory_peak_bytes.value_or(0));
    if (report.timed_out) {
      report.outcome = "timed_out";
      report.exit_code = exit_code::timed_out;
    } else if (report.killed_by == "test_timeout") {
      report.outcome = "test_timed_out";
      report.exit_code = exit_code::timed_out;  // 124 like --timeout, never mistaken for a SIGTERM from outside
    } else if (report.killed_by == "memory_ceiling" || report.killed_by == "pids_ceiling") {
      report.outcome = status.kind == ExitStatus::Kind::signaled ? "signaled" : "exited";
      report.exit_code = 128 + SIGKILL;  // 137, however the watchdog's SIGTERM ended it
    } else {
      report.outcome = status.kind == ExitStatus::Kind::signaled ? "signaled" : "exited";
      report.exit_code = status.shell_code();
    }
  }
  if (tests_) {
    tests_->finish();
    adapters::junit::JunitAdapter(context_).finish(tests_->tracker().seen_any());  // --junit files
  }
}

void MainCommand::finish_ci() {
  if (ci_) ci_->finish();  // GitHub job summary, GitLab section end
}

}  // namespace guardian::session
