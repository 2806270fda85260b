#include "guardian/supervise/supervisor.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <csignal>
#include <cstring>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "adapters/ci/ci_run.hpp"
#include "adapters/junit/junit_adapter.hpp"
#include "adapters/pytest/pytest_adapter.hpp"
#include "guardian/config/quantity.hpp"
#include "guardian/limits/limit_alerts.hpp"
#include "guardian/limits/make_limiter.hpp"
#include "guardian/monitor/monitor.hpp"
#include "guardian/process/command_lookup.hpp"
#include "guardian/process/job_control.hpp"
#include "guardian/process/orphan_reaper.hpp"
#include "guardian/process/sentinel.hpp"
#include "guardian/process/terminal.hpp"
#include "guardian/report/console.hpp"
#include "guardian/report/event_log.hpp"
#include "guardian/report/run_directory.hpp"
#include "guardian/report/run_report.hpp"
#include "guardian/supervise/run_context.hpp"
#include "guardian/supervise/run_plugins.hpp"
#include "guardian/supervise/server_run.hpp"
#include "guardian/supervise/supervised_command.hpp"

extern char** environ;

namespace guardian::supervise {
namespace {

using namespace std::chrono_literals;
using process::ExitStatus;
namespace exit_code = process::exit_code;

std::vector<std::string> child_environment(const report::RunDirectory& run) {
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string_view entry(*e);
    if (entry.starts_with("GUARDIAN_RUN_ID=") || entry.starts_with("GUARDIAN_RUN_DIR=")) continue;
    env.emplace_back(entry);
  }
  env.push_back("GUARDIAN_RUN_ID=" + run.run_id);
  env.push_back("GUARDIAN_RUN_DIR=" + run.path.string());
  return env;
}

std::uint64_t to_ms(const timeval& tv) {
  return static_cast<std::uint64_t>(tv.tv_sec) * 1000 + static_cast<std::uint64_t>(tv.tv_usec) / 1000;
}

// One run from launch to report. Lives on the stack of Supervisor::run().
class RunSession {
 public:
  RunSession(const RunOptions& options, const config::Config& config, report::RunDirectory run,
             report::EventLog& log, const report::Console& console, report::RunReport& report)
      : options_(options),
        config_(config),
        run_(std::move(run)),
        log_(log),
        console_(console),
        report_(report),
        alerts_(alerts::AlertBusOptions{run_.path, run_.run_id, std::chrono::milliseconds(60000), 500, {}}),
        context_{io_, config_, options_, log_, console_, alerts_, report_, run_.run_id, run_.path,
                 "GUARDIAN_RUN_ID=" + run_.run_id},
        reaper_(io_),
        signals_(io_, SIGINT, SIGTERM, SIGHUP),
        more_signals_(io_, SIGQUIT, SIGUSR1, SIGUSR2),
        timeout_timer_(io_) {}

  int run(const std::filesystem::path& program) {
    const std::string& marker = context_.marker_entry;
    monitor_.emplace(context_, monitor::MonitorSettings::from_config(config_, options_.mode, options_.working_dir));
    context_.monitor = &*monitor_;
    tests_.emplace(context_);  // pytest events (adapters/pytest): failures, running test, report section
    tests_->start();
    ci_.emplace(context_);  // CI (adapters/ci): annotations, job summary, GitLab section, cancel grace
    ci_->start();
    context_.running_test = [this] { return tests_->running_test(); };
    tests_->on_test_timeout([this](const adapters::pytest::RunningTest& test) {
      if (!command_ || !command_->running()) return;
      report_.stop_reason = "test timeout: " + test.nodeid;
      report_.killed_by = "test_timeout";
      command_->stop(SIGTERM, options_.kill_after);
    });
    if (!alerts_.journal_problem().empty())
      log_.warning("alerts", "journal.unavailable", alerts_.journal_problem());
    // Before any thread exists: the sentinel is forked code.
    sentinel_ = process::Sentinel::start(marker);
    reaper_.own(sentinel_.pid());
    if (auto error = reaper_.start())
      log_.warning("supervisor", "subreaper.unavailable",
                   fmt::format("cannot become child subreaper ({}); escaped daemons may outlive the run",
                               error.message()));
    // Plugins run threads: only after the sentinel's fork.
    plugins_.emplace(context_);
    plugins_->start();
    plugins_->publish_run_started({{"command", options_.command}, {"mode", options_.mode},
                                   {"run_dir", run_.path.string()}});

    // Dev servers first: the command starts once they are all healthy (issue 5).
    servers_.emplace(context_, reaper_, sentinel_);
    if (auto code = servers_->start_and_wait()) {
      reaper_.stop();
      sentinel_.dismiss();
      return report_.exit_code = *code;
    }

    process::TreeMembership membership(process::ProcFs{}, ::getpid(), marker);
    membership.exclude_subtree(sentinel_.pid());
    membership.claim_unmarked_orphans(true);  // everything under guardian belongs to this run
    servers_->exclude_from(membership);
    auto limiter = limits::make_limiter(limits::LimiterRequest{
        config_, io_.get_executor(), std::move(membership), "main",
        [this](const std::string& event, const std::string& message) {
          console_.info(message);  // loud, but a fallback is not an error: --quiet silences it
          log_.warning("limits", event, message);
          if (auto alert = limits::limits_problem_alert(event, message)) alerts_.raise(std::move(*alert));
        }});
    limiter->on_breach([this](const limits::Breach& breach) { on_ceiling_breach(breach); });
    if (auto kill_file = limiter->kill_file(); !kill_file.empty()) sentinel_.watch_cgroup_kill_file(kill_file);
    servers_->watch_main_tree(*limiter);  // servers restarted later stay out of the command's tree
    report_.enforcement = limiter->report();
    std::string limits_line = limiter->summary();

    process::LaunchSpec spec;
    spec.program = program;
    spec.argv = options_.command;
    spec.environment = child_environment(run_);
    tests_->add_environment(spec.environment);
    spec.working_dir = options_.working_dir;
    terminal_ = process::ForegroundTerminal::detect();
    if (terminal_) spec.foreground_terminal_fd = terminal_->fd();

    command_.emplace(io_, "main", std::move(spec), std::move(limiter), options_.kill_after,
                     SupervisedCommand::Callbacks{
                         [this](const ExitStatus& status) { on_command_exit(status); },
                         [this] { on_tree_finished(); }});

    console_.info(fmt::format("running '{}' · mode {} · {} · run {}", fmt::join(options_.command, " "),
                              options_.mode, limits_line, run_.run_id));
    log_.info("supervisor", "run.started", "run started",
              {{"command", options_.command}, {"mode", options_.mode}, {"run_dir", run_.path.string()},
               {"enforcement", report_.enforcement}});

    if (auto error = command_->start()) return launch_failed(error);
    pid_t pid = command_->pid();
    reaper_.own(pid);
    sentinel_.watch_group(pid);
    if (terminal_) {
      terminal_->give_to(pid);
      job_control_.emplace(io_, *terminal_);
      job_control_->on_resumed([this](int stop_signal) {
        log_.info("supervisor", "job.resumed",
                  fmt::format("the command was stopped by {}; guardian stopped with it and resumed",
                              process::signal_name(stop_signal)));
      });
      job_control_->follow(pid);
    }
    log_.info("supervisor", "child.started", fmt::format("started pid {}", pid), {{"pid", pid}});
    servers_->on_fatal([this] { command_->stop(SIGTERM, options_.kill_after); });  // then exit 125

    arm_signals();
    arm_more_signals();
    if (options_.timeout) {
      timeout_timer_.expires_after(*options_.timeout);
      timeout_timer_.async_wait([this](const boost::system::error_code& error) {
        if (!error) on_timeout();
      });
    }
    process::TreeMembership monitored(process::ProcFs{}, ::getpid(), marker);  // the protector's view
    monitored.exclude_subtree(sentinel_.pid());
    monitored.claim_unmarked_orphans(true);
    servers_->exclude_from(monitored);
    monitored.set_root(pid);
    monitor_->watch(command_->limiter(), std::move(monitored));
    io_.run();
    return finish();
  }

 private:
  int launch_failed(const std::error_code& error) {
    servers_->finish();  // the servers were up for a command that cannot run: stop them
    int code = exit_code::guardian_failed;
    std::string message;
    if (error.value() == ENOENT) {
      code = exit_code::not_found;
      report_.outcome = "not_found";
      message = fmt::format("cannot start '{}': {} (a missing interpreter in its #! line?). Check the "
                            "program and its first line.", options_.command[0], error.message());
    } else if (error.value() == EACCES || error.value() == ENOEXEC || error.value() == EISDIR) {
      code = exit_code::not_executable;
      report_.outcome = "not_executable";
      message = fmt::format("cannot execute '{}': {}. Make it an executable program (chmod +x, a #! line) "
                            "or run it through its interpreter.", options_.command[0], error.message());
    } else {
      report_.outcome = "failed_to_start";
      message = fmt::format("could not start '{}': {}. Nothing was started.", options_.command[0],
                            error.message());
    }
    console_.error(message);
    log_.write(report::Level::error, "supervisor", "child.launch_failed", message, {{"errno", error.value()}});
    reaper_.stop();
    sentinel_.dismiss();
    report_.exit_code = code;
    return code;
  }

  void arm_signals() {
    signals_.async_wait([this](const boost::system::error_code& error, int signo) {
      if (error) return;
      on_stop_signal(signo);
      arm_signals();
    });
  }

  void arm_more_signals() {
    more_signals_.async_wait([this](const boost::system::error_code& error, int signo) {
      if (error) return;
      command_->relay(signo);
      log_.info("supervisor", "signal.relayed", fmt::format("relayed {}", process::signal_name(signo)),
                {{"signal", process::signal_name(signo)}});
      arm_more_signals();
    });
  }

  void on_stop_signal(int signo) {
    std::string name = process::signal_name(signo);
    if (!command_->running()) return;
    bool second = stop_signals_ > 0 && (signo == SIGINT || signo == SIGTERM);
    ++stop_signals_;
    if (signo == SIGHUP) {  // relayed, not a stop request: the command decides
      command_->relay(signo);
      log_.info("supervisor", "signal.relayed", "relayed SIGHUP", {{"signal", name}});
      return;
    }
    if (second) {
      log_.warning("supervisor", "stop.escalated", fmt::format("second {}: killing the tree now", name),
                   {{"signal", name}});
      console_.info(fmt::format("second {}: killing everything now", name));
      command_->escalate();
      return;
    }
    report_.stop_reason = "signal " + name;
    const auto grace = ci_->stop_grace(options_.kill_after);  // shorter under GitHub Actions' cancel
    log_.info("supervisor", "stop.requested",
              fmt::format("{} received: relayed; SIGKILL in {} unless it ends", name, config::format_duration(grace)),
              {{"signal", name}, {"kill_after_ms", grace.count()}});
    command_->stop(signo, grace);
  }

  void on_timeout() {
    if (!command_->running()) return;
    report_.timed_out = true;
    report_.stop_reason = "timeout";
    report_.killed_by = "timeout";
    std::string message = fmt::format("timed out after {}: stopping '{}' (SIGTERM, then SIGKILL after {})",
                                      config::format_duration(*options_.timeout), options_.command[0],
                                      config::format_duration(options_.kill_after));
    console_.error(message);
    log_.warning("supervisor", "timeout.expired", message, {{"timeout_ms", options_.timeout->count()}});
    command_->stop(SIGTERM, options_.kill_after);
  }

  // A ceiling the tree hit (limits/): a memory-ceiling kill is named everywhere and ends the
  // run with 137; the watchdog leaves the stopping to us, the kernel has already killed.
  void on_ceiling_breach(const limits::Breach& breach) {
    if (breach.kind != limits::Breach::Kind::memory_ceiling) {
      console_.error(breach.message);
      log_.warning("limits", "pids.ceiling", breach.message, breach.to_json());
      return;
    }
    report_.killed_by = "memory_ceiling";
    if (!report_.stop_reason) report_.stop_reason = "memory ceiling";
    report_.sections["ceiling_kill"] = breach.to_json();
    auto test = tests_->running_test();  // "brought down by tests/test_x.py::test_y"
    std::string during = test.is_null() ? "" : " (while running " + test.value("nodeid", "") + ")";
    if (!test.is_null()) report_.sections["ceiling_kill"]["running_test"] = test;
    console_.error(breach.message + during + " — exit 137");
    log_.write(report::Level::error, "limits", "memory.ceiling_kill", breach.message + during, breach.to_json());
    auto alert = limits::ceiling_kill_alert(breach, "main", options_.command.at(0));
    if (!test.is_null()) {
      alert.message += during;
      alert.context["running_test"] = test;
    }
    alerts_.raise(std::move(alert));
    monitor_->pulse(monitor::Severity::critical, breach.message);  // a ceiling kill: CRITICAL at once
    if (!breach.kernel_killed) command_->stop(SIGTERM, breach.grace);
  }

  void on_command_exit(const ExitStatus& status) {
    exit_status_ = status;
    timeout_timer_.cancel();
    servers_->command_ended();
    if (terminal_) terminal_->take_back();
    log_.info("supervisor", "child.exited", status.describe(),
              {{"exit_code", status.kind == ExitStatus::Kind::exited ? nlohmann::json(status.code) : nullptr},
               {"signal", status.kind == ExitStatus::Kind::signaled ? nlohmann::json(process::signal_name(status.signal))
                                                                   : nullptr}});
  }

  void on_tree_finished() {
    if (command_->leftovers_signalled() > 0)
      log_.info("supervisor", "tree.swept",
                fmt::format("ended {} process(es) the command left behind", command_->leftovers_signalled()),
                {{"processes", command_->leftovers_signalled()}});
    if (command_->escalated())
      log_.warning("supervisor", "tree.killed", "the tree did not end within the grace period: SIGKILL sent");
    monitor_->stop();
    if (job_control_) job_control_->stop();
    signals_.cancel();
    more_signals_.cancel();
    reaper_.stop();
    io_.stop();
  }

  int finish() {
    auto servers_code = servers_->finish();  // waits until the servers are stopped
    reaper_.reap_now();
    sentinel_.dismiss();
    rusage children{};
    ::getrusage(RUSAGE_CHILDREN, &children);
    report_.user_cpu_ms = to_ms(children.ru_utime);
    report_.system_cpu_ms = to_ms(children.ru_stime);
    report_.cpu_time_ms = report_.user_cpu_ms + report_.system_cpu_ms;
    // ru_maxrss is the largest single descendant: a floor for the tree's peak between samples.
    report_.peak_memory_bytes =
        std::max(monitor_->peak_memory_bytes(), static_cast<std::uint64_t>(children.ru_maxrss) * 1024);
    // The most processes seen at once: by the monitor's samples, or when the tree was stopped.
    report_.processes_observed = std::max<std::uint64_t>(
        {monitor_->peak_processes(), command_->processes_signalled(), command_->leftovers_signalled() + 1, 1});
    report_.sections["monitor"] = monitor_->report_section();
    report_.leftover_processes_killed = command_->leftovers_signalled();
    report_.escalated_to_kill = command_->escalated();

    const ExitStatus status = exit_status_.value_or(ExitStatus{});
    if (status.kind == ExitStatus::Kind::signaled) report_.signal = status.signal;
    else report_.child_exit_code = status.code;
    // What the limiter knows at the end: throttling, peaks, OOM kills (cgroup: read before removal).
    report_.enforcement = command_->limiter().report();
    report_.peak_memory_bytes =
        std::max(report_.peak_memory_bytes, command_->limiter().sample().memory_peak_bytes.value_or(0));
    if (report_.timed_out) {
      report_.outcome = "timed_out";
      report_.exit_code = exit_code::timed_out;
    } else if (report_.killed_by == "test_timeout") {
      report_.outcome = "test_timed_out";
      report_.exit_code = exit_code::timed_out;  // 124 like --timeout, never mistaken for a SIGTERM from outside
    } else if (report_.killed_by == "memory_ceiling") {
      report_.outcome = status.kind == ExitStatus::Kind::signaled ? "signaled" : "exited";
      report_.exit_code = 128 + SIGKILL;  // 137, however the watchdog's SIGTERM ended it
    } else {
      report_.outcome = status.kind == ExitStatus::Kind::signaled ? "signaled" : "exited";
      report_.exit_code = status.shell_code();
    }
    if (servers_code) {
      report_.outcome = "server_failed";
      report_.exit_code = *servers_code;
    }
    tests_->finish();
    adapters::junit::JunitAdapter(context_).finish(tests_->tracker().seen_any());  // --junit files
    report_.sections["alerts"] = alerts_.summary();
    log_.info("supervisor", "run.finished", fmt::format("finished: exit {}", report_.exit_code),
              {{"exit_code", report_.exit_code}, {"outcome", report_.outcome}});
    report_.ended_at = std::chrono::system_clock::now();
    ci_->finish();  // GitHub job summary, GitLab section end
    plugins_->finish(report_.to_json());
    return report_.exit_code;
  }

  const RunOptions& options_;
  const config::Config& config_;
  report::RunDirectory run_;
  report::EventLog& log_;
  const report::Console& console_;
  report::RunReport& report_;
  boost::asio::io_context io_;
  alerts::AlertBus alerts_;
  RunContext context_;
  process::Sentinel sentinel_;
  process::OrphanReaper reaper_;
  std::optional<process::ForegroundTerminal> terminal_;
  std::optional<process::JobControl> job_control_;
  std::optional<RunPlugins> plugins_;
  std::optional<SupervisedCommand> command_;
  std::optional<monitor::Monitor> monitor_;  // after command_: it samples command_'s limiter
  std::optional<RunServers> servers_;
  std::optional<adapters::pytest::PytestAdapter> tests_;
  std::optional<adapters::ci::CiRun> ci_;
  boost::asio::signal_set signals_;
  boost::asio::signal_set more_signals_;
  boost::asio::steady_timer timeout_timer_;
  std::optional<ExitStatus> exit_status_;
  int stop_signals_ = 0;
};

}  // namespace

Supervisor::Supervisor(RunOptions options, const config::Config& config)
    : options_(std::move(options)), config_(config) {}

int Supervisor::run() {
  // A bad monitor/protector setting ends the run before anything is created (throws ConfigError).
  (void)monitor::MonitorSettings::from_config(config_, options_.mode, options_.working_dir);
  report::Console console(options_.quiet);
  report::RunReport report;
  report.command = options_.command;
  report.mode = options_.mode;
  report.working_dir = options_.working_dir.string();
  report.started_at = std::chrono::system_clock::now();

  report::RunDirectory run;
  try {
    run = report::RunDirectory::create(options_.runs_dir, options_.runs_keep);
  } catch (const std::system_error& e) {
    console.error(fmt::format("{}: {}. Choose a writable place with --runs-dir.", e.what(), e.code().message()));
    return exit_code::guardian_failed;
  }
  report.run_id = run.run_id;
  report::EventLog log(run.path / "events.jsonl");

  int code = 0;
  const char* path_variable = std::getenv("PATH");
  auto found = process::find_program(options_.command.at(0), path_variable ? path_variable : "/usr/bin:/bin");
  if (auto* failure = std::get_if<process::LookupFailure>(&found)) {
    console.error(failure->message);
    log.write(report::Level::error, "supervisor", "child.not_found", failure->message);
    report.outcome = failure->exit_code == exit_code::not_found ? "not_found" : "not_executable";
    report.exit_code = code = failure->exit_code;
  } else {
    RunSession session(options_, config_, run, log, console, report);
    code = session.run(std::get<std::filesystem::path>(found));
  }

  report.ended_at = std::chrono::system_clock::now();
  auto report_path = run.path / "report.json";
  std::string error;
  if (!report.write(report_path, error)) console.error(error + ". The run itself is unaffected.");
  if (options_.report_copy && !report.write(*options_.report_copy, error))
    console.error(error + ". Check the --report path.");
  console.info(report.summary_line(report_path));
  return code;
}

}  // namespace guardian::supervise
