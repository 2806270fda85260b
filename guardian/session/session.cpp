#include "guardian/session/session.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <cstring>
#include <set>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "guardian/config/install_layout.hpp"
#include "guardian/limits/limit_alerts.hpp"
#include "guardian/monitor/monitor.hpp"
#include "guardian/process/command_lookup.hpp"
#include "guardian/process/orphan_reaper.hpp"
#include "guardian/process/pidfd.hpp"
#include "guardian/process/sentinel.hpp"
#include "guardian/report/console.hpp"
#include "guardian/report/event_log.hpp"
#include "guardian/report/run_directory.hpp"
#include "guardian/report/run_report.hpp"
#include "guardian/context/run_context.hpp"
#include "guardian/session/main_command.hpp"
#include "guardian/session/run_plugins.hpp"
#include "guardian/session/run_usage.hpp"
#include "guardian/servers/dev_server_fleet.hpp"

namespace guardian::session {
namespace {

using namespace std::chrono_literals;
namespace exit_code = process::exit_code;

std::uint64_t to_ms(const timeval& tv) {
  return static_cast<std::uint64_t>(tv.tv_sec) * 1000 + static_cast<std::uint64_t>(tv.tv_usec) / 1000;
}

// The console's line for a limits fallback: the start line already says which backend
// holds the tree ("limits: watchdog"); why, and how to get cgroup v2, is for `guardian
// doctor` and events.jsonl. What is asked but not enforced stays loud.
std::string console_line(const std::string& event, const std::string& message) {
  if (event == "limits.partial" || event == "limits.capped") return message;
  // A user without a systemd user bus (cron, a CI runner's service, su) is told that much:
  // it is the one fallback the user can usually fix from the same shell.
  if (message.find("no systemd user bus") != std::string::npos)
    return "no systemd user bus here: ceilings by the /proc watchdog ('guardian doctor' says what to run)";
  if (event == "limits.permission_denied")
    return "cgroup v2 refused guardian: ceilings by the /proc watchdog ('guardian doctor' says how to fix)";
  return "no cgroup v2 here: ceilings by the /proc watchdog ('guardian doctor' says why)";
}

// One session from its start to its report. Lives on the stack of run_session().
class Session {
 public:
  Session(const context::RunOptions& options, const config::Config& config, const report::RunDirectory& run,
          report::EventLog& log, const report::Console& console, report::RunReport& report,
          std::vector<servers::ServerSpec> specs, std::optional<std::filesystem::path> program)
      : options_(options),
        config_(config),
        run_(run),
        console_(console),
        report_(report),
        specs_(std::move(specs)),
        alerts_(alerts::AlertBusOptions{run_.path, run_.run_id, std::chrono::milliseconds(60000), 500, {}}),
        context_{io_,         config_,  options_, log,
                 console_,    alerts_,  report_,  run_.run_id,
                 run_.path,   "GUARDIAN_RUN_ID=" + run_.run_id},
        reaper_(io_),
        signals_(io_, SIGINT, SIGTERM, SIGHUP),
        more_signals_(io_, SIGQUIT, SIGUSR1, SIGUSR2) {
    if (program) main_.emplace(context_, std::move(*program));
  }

  int run() {
    // The plugin host process opens the plugins while the session sets up (no thread yet).
    plugins_.emplace(context_);
    plugins_->launch();
    reaper_.own_when(plugins_->host_pids());  // PluginHost waits for its host itself
    monitor_.emplace(context_, monitor::MonitorSettings::from_config(config_, options_.mode, options_.working_dir));
    context_.monitor = &*monitor_;
    context_.limits_fallback = [this](const std::string& event, const std::string& message) {
      on_limits_fallback(event, message);
    };
    if (main_) main_->attach();
    if (!alerts_.journal_problem().empty())
      context_.log.warning("alerts", "journal.unavailable", alerts_.journal_problem());
    // Before any thread exists: without its own executable, the sentinel is forked code.
    sentinel_ = process::Sentinel::start(context_.marker_entry, config::sentinel_executable());
    reaper_.own(sentinel_.pid());
    if (auto error = reaper_.start())
      context_.log.warning("supervisor", "subreaper.unavailable",
                           fmt::format("cannot become child subreaper ({}); escaped daemons may outlive the run",
                                       error.message()));
    // Plugins run threads: only after the sentinel's fork.
    plugins_->start();  // waits for the plugin host's validation: before anything else starts
    plugins_->publish_run_started({{"command", options_.command}, {"mode", options_.mode},
                                   {"run_dir", run_.path.string()}});

    using Role = servers::DevServerFleet::Role;
    fleet_.emplace(context_, std::move(specs_), main_ ? Role::beside_command : Role::alone, reaper_, sentinel_,
                   run_cgroups_);
    if (main_) {
      // Dev servers first: the command starts once they are all healthy (issue 5).
      if (auto code = fleet_->start_and_wait()) return finish(code);
      main_->exclude_subtrees_of(plugins_->host_pids());  // guardian's own, not the command's
      if (auto code = main_->launch(reaper_, sentinel_, *fleet_, run_cgroups_, [this] { end_loop(); })) return finish(code);
    } else {
      fleet_->on_all_settled([this] { end_loop(); });
      fleet_->start();
      announce_serving();  // after the launches: the servers' limiters say which backend holds them
    }
    fleet_->on_gave_up([this](servers::ServerSupervisor& server) { on_server_gave_up(server); });
    arm_signals();
    arm_more_signals();
    watch_tree();
    io_.run();
    return finish(std::nullopt);
  }

 private:
  void announce_serving() {
    std::vector<std::string> lines;
    for (const auto& server : fleet_->servers()) {
      const auto& spec = server->spec();
      lines.push_back(fmt::format("'{}' ({}{})", spec.name, spec.command_text,
                                  spec.probe ? " · health " + health::describe(*spec.probe) : ""));
    }
    console_.info(fmt::format("serving {} · run {} · Ctrl-C stops", fmt::join(lines, ", "), run_.run_id));
    // Like run.started's: the plugins' status query and report.json name the backend.
    report_.enforcement = fleet_->enforcement();
    context_.log.info("supervisor", "serve.started", "serving",
                      {{"servers", lines}, {"run_dir", run_.path.string()}, {"enforcement", report_.enforcement}});
  }

  // The monitor and the protector watch the whole run: the command and every server.
  void watch_tree() {
    process::TreeMembership members(process::ProcFs{}, ::getpid(), context_.marker_entry);
    members.exclude_subtree(sentinel_.pid());
    plugins_->exclude_from(members);
    members.claim_unmarked_orphans(true);  // everything under guardian belongs to this run
    monitor_->watch(
        [this] {
          auto parts = fleet_->usage();
          if (main_)
            if (auto usage = main_->usage()) parts.push_back(*usage);
          return sum_usage(parts);
        },
        std::move(members),
        [this](pid_t pid) {
          if (main_ && pid == main_->pid()) return true;
          auto roots = fleet_->root_pids();
          return std::find(roots.begin(), roots.end(), pid) != roots.end();
        });
    // The command alone is the whole tree: its limiter's own samples (the watchdog's) can
    // feed the thresholds between checks (issue 17: a breach escalates within a second).
    if (main_ && fleet_->servers().empty())
      if (auto* limiter = main_->limiter()) monitor_->follow_samples(*limiter);
  }

  void on_limits_fallback(const std::string& event, const std::string& message) {
    // The same machine gives the same answer for every server: each kind is said once.
    if (!limits_said_.insert(event).second) return;
    console_.info(console_line(event, message));  // loud, but a fallback is not an error: --quiet silences it
    context_.log.warning("limits", event, message);
    if (auto alert = limits::limits_problem_alert(event, message)) alerts_.raise(std::move(*alert));
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
      if (main_) {
        main_->relay(signo);
      } else {
        fleet_->relay(signo);
        context_.log.info("supervisor", "signal.relayed", fmt::format("relayed {}", process::signal_name(signo)),
                          {{"signal", process::signal_name(signo)}});
      }
      arm_more_signals();
    });
  }

  void on_stop_signal(int signo) {
    if (main_) {
      main_->on_stop_signal(signo);  // the servers stop once the command has ended
      return;
    }
    const std::string name = process::signal_name(signo);
    if (stop_signal_ == 0) {
      stop_signal_ = signo;
      report_.stop_reason = "signal " + name;
      console_.info(fmt::format("{}: stopping the servers (again to kill them now)", name));
      context_.log.info("supervisor", "stop.requested", fmt::format("{} received", name));
      fleet_->stop();
    } else {
      console_.info("killing the servers now");
      fleet_->kill_now();
    }
  }

  void on_server_gave_up(servers::ServerSupervisor& server) {
    if (server_failed_) return;
    server_failed_ = true;
    report_.stop_reason = fmt::format("server '{}' gave up", server.name());
    if (main_) {
      console_.error(server.failure_message() + "\nStopping the command (exit 125).");
      main_->stop();
    } else {
      console_.error(server.failure_message());
      fleet_->stop();
    }
  }

  void end_loop() {
    monitor_->stop();
    signals_.cancel();
    more_signals_.cancel();
    reaper_.stop();
    io_.stop();
  }

  // `early`: the exit code when the session ended before its loop ran (a server never
  // became healthy, the command could not start).
  int finish(std::optional<int> early) {
    fleet_->finish();  // waits until the servers are stopped
    monitor_->stop();
    reaper_.stop();
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
    report_.processes_observed = monitor_->peak_processes();
    if (main_)
      report_.processes_observed = std::max<std::uint64_t>(
          {report_.processes_observed, main_->processes_signalled(), main_->leftovers_signalled() + 1});
    report_.processes_observed = std::max<std::uint64_t>(report_.processes_observed, 1);
    report_.sections["monitor"] = monitor_->report_section();

    // Under serve the servers' limiters are the run's: what they enforced, read at the end
    // like the command's (run: MainCommand::finish_report).
    if (!main_)
      if (auto enforcement = fleet_->enforcement(); !enforcement.empty()) report_.enforcement = std::move(enforcement);
    if (early) {
      report_.exit_code = *early;
    } else if (main_) {
      main_->finish_report(report_);
    } else if (stop_signal_) {
      report_.outcome = "stopped";
      report_.exit_code = 0;
    } else {
      // Every server ended for good by its restart policy: pass the first one's code on.
      report_.outcome = "exited";
      report_.exit_code = fleet_->last_exit_code().value_or(0);
    }
    if (server_failed_) {
      report_.outcome = "server_failed";
      report_.exit_code = exit_code::guardian_failed;
    }
    report_.sections["alerts"] = alerts_.summary();
    context_.log.info("supervisor", "run.finished", fmt::format("finished: exit {}", report_.exit_code),
                      {{"exit_code", report_.exit_code}, {"outcome", report_.outcome}});
    report_.ended_at = std::chrono::system_clock::now();
    if (main_ && !early) main_->finish_ci();
    plugins_->finish(report_.to_json());
    return report_.exit_code;
  }

  const context::RunOptions& options_;
  const config::Config& config_;
  const report::RunDirectory& run_;
  const report::Console& console_;
  report::RunReport& report_;
  std::vector<servers::ServerSpec> specs_;
  boost::asio::io_context io_;
  alerts::AlertBus alerts_;
  context::RunContext context_;
  process::Sentinel sentinel_;
  process::OrphanReaper reaper_;
  std::optional<RunPlugins> plugins_;
  std::optional<monitor::Monitor> monitor_;
  // The run's cgroups (cgroup v2 backend), shared by the command's limiter and each server's.
  limits::RunCgroups run_cgroups_;
  std::optional<MainCommand> main_;  // `run` only; before fleet_: its exit stops the servers
  std::optional<servers::DevServerFleet> fleet_;
  boost::asio::signal_set signals_;
  boost::asio::signal_set more_signals_;
  int stop_signal_ = 0;  // `serve`: the first stop signal
  bool server_failed_ = false;
  std::set<std::string> limits_said_;  // limits.* events already said this run
};

// What both commands do around a session: the run directory, the event log, the report
// written at the end and the last line. `program` is the command's (empty under serve).
int run_session(const config::Config& config, const context::RunOptions& options,
                std::vector<std::string> report_command, std::vector<servers::ServerSpec> specs,
                std::optional<std::filesystem::path> program, const process::LookupFailure* not_found) {
  // A bad monitor/protector setting ends the run before anything is created (throws ConfigError).
  (void)monitor::MonitorSettings::from_config(config, options.mode, options.working_dir);
  (void)RunPlugins::host_user(config);  // an unknown plugins.user, likewise
  report::Console console(options.quiet);
  // Every signal guardian sends goes through a pidfd, so a reused pid is never hit: without
  // them it cannot supervise safely, and says so before anything exists.
  if (const std::error_code refused = process::pidfd_support()) {
    console.error(fmt::format(
        "this system refuses pidfd_open ({}), which guardian needs to signal processes safely: use Linux 5.3 "
        "or later and, in a container, a seccomp profile that allows pidfd_open (Docker 20.10 or later, or "
        "--security-opt seccomp=<a profile that lists it>). Nothing was started.",
        refused.message()));
    return exit_code::guardian_failed;
  }
  report::RunReport report;
  report.command = std::move(report_command);
  report.mode = options.mode;
  report.working_dir = options.working_dir.string();
  report.started_at = std::chrono::system_clock::now();

  report::RunDirectory run;
  try {
    run = report::RunDirectory::create(options.runs_dir, options.shared_run_files, options.runs_keep);
  } catch (const std::system_error& e) {
    console.error(fmt::format("{}: {}. Choose a writable place with --runs-dir.", e.what(), e.code().message()));
    return exit_code::guardian_failed;
  }
  report.run_id = run.run_id;
  report::EventLog log(run.path / "events.jsonl", run.file_mode);

  const bool serving = !program && !not_found;
  int code = 0;
  if (not_found) {
    console.error(not_found->message);
    log.write(report::Level::error, "supervisor", "child.not_found", not_found->message);
    report.outcome = not_found->exit_code == exit_code::not_found ? "not_found" : "not_executable";
    report.exit_code = code = not_found->exit_code;
  } else {
    Session session(options, config, run, log, console, report, std::move(specs), std::move(program));
    code = session.run();
  }

  report.ended_at = std::chrono::system_clock::now();
  auto report_path = run.path / "report.json";
  std::string error;
  if (!report.write(report_path, error, run.file_mode)) console.error(error + ". The run itself is unaffected.");
  if (options.report_copy && !report.write(*options.report_copy, error, run.file_mode))
    console.error(error + ". Check the --report path.");
  if (serving)
    console.info(fmt::format("served for {:.1f}s · exit {} · report {}",
                             std::chrono::duration<double>(report.ended_at - report.started_at).count(), code,
                             report_path.string()));
  else
    console.info(report.summary_line(report_path));
  return code;
}

}  // namespace

int run_command(const config::Config& config, context::RunOptions options) {
  const char* path_variable = std::getenv("PATH");
  auto found = process::find_program(options.command.at(0), path_variable ? path_variable : "/usr/bin:/bin");
  auto specs = servers::ServerSpec::all_from_config(config);
  if (auto* failure = std::get_if<process::LookupFailure>(&found)) {
    // Reported like a run that could not start: a run directory, the event and report.json.
    return run_session(config, options, options.command, {}, std::nullopt, failure);
  }
  return run_session(config, options, options.command, std::move(specs), std::get<std::filesystem::path>(found),
                     nullptr);
}

int serve(const config::Config& config, std::vector<servers::ServerSpec> specs) {
  std::vector<std::string> command = {"guardian", "serve"};
  for (const auto& spec : specs) command.push_back(spec.name);
  auto options = context::RunOptions::from_config(config, command);
  std::vector<std::string> report_command = specs.size() == 1 ? specs.front().argv : command;
  if (specs.size() == 1 && specs.front().argv.size() == 3 && specs.front().argv[0] == "/bin/sh")
    report_command = {specs.front().command_text};
  return run_session(config, options, std::move(report_command), std::move(specs), std::nullopt, nullptr);
}

}  // namespace guardian::session
