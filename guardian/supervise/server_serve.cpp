#include "guardian/supervise/server_serve.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "guardian/alerts/alert_bus.hpp"
#include "guardian/process/exit_status.hpp"
#include "guardian/process/orphan_reaper.hpp"
#include "guardian/process/sentinel.hpp"
#include "guardian/report/console.hpp"
#include "guardian/report/event_log.hpp"
#include "guardian/report/run_directory.hpp"
#include "guardian/report/run_report.hpp"
#include "guardian/supervise/run_context.hpp"
#include "guardian/supervise/server_fleet.hpp"

namespace guardian::supervise {
namespace {

namespace exit_code = process::exit_code;

class ServeSession {
 public:
  ServeSession(const RunOptions& options, const config::Config& config, const report::RunDirectory& run,
               report::EventLog& log, const report::Console& console, report::RunReport& report)
      : run_(run),
        console_(console),
        report_(report),
        alerts_(alerts::AlertBusOptions{run.path, run.run_id, std::chrono::milliseconds(60000), 500, {}}),
        context_{io_,         config,   options,  log,
                 console,     alerts_,  report,   run.run_id,
                 run.path,    "GUARDIAN_RUN_ID=" + run.run_id,
                 nullptr,     {}},  // no monitor and no test-runner adapter under `serve`
        reaper_(io_),
        signals_(io_, SIGINT, SIGTERM, SIGHUP) {}

  int run(std::vector<ServerSpec> specs) {
    // Before any thread exists: the sentinel is forked code.
    sentinel_ = process::Sentinel::start(context_.marker_entry);
    reaper_.own(sentinel_.pid());
    if (auto error = reaper_.start())
      context_.log.warning("supervisor", "subreaper.unavailable",
                           fmt::format("cannot become child subreaper ({}); escaped daemons may outlive guardian",
                                       error.message()));
    std::vector<std::string> lines;
    for (const auto& spec : specs)
      lines.push_back(fmt::format("'{}' ({}{})", spec.name, spec.command_text,
                                  spec.probe ? " · health " + health::describe(*spec.probe) : ""));

    ServerHooks hooks;
    hooks.adopt = [this](pid_t pid) { reaper_.own(pid); };
    hooks.release = [this](pid_t pid) { reaper_.disown(pid); };
    hooks.watch_group = [this](pid_t pid) { sentinel_.watch_group(pid); };
    hooks.watch_kill_file = [this](const std::string& file) { sentinel_.watch_cgroup_kill_file(file); };
    hooks.running_test = [] { return nlohmann::json(); };
    fleet_.emplace(context_, std::move(specs), std::move(hooks));
    fleet_->on_gave_up([this](ServerSupervisor& server) {
      if (failed_) return;
      failed_ = true;
      console_.error(server.failure_message());
      report_.stop_reason = fmt::format("server '{}' gave up", server.name());
      fleet_->stop();
    });
    fleet_->on_all_settled([this] {
      signals_.cancel();
      io_.stop();
    });

    console_.info(fmt::format("serving {} · run {} · Ctrl-C stops", fmt::join(lines, ", "), run_.run_id));
    context_.log.info("supervisor", "serve.started", "serving", {{"servers", lines}, {"run_dir", run_.path.string()}});
    arm_signals();
    fleet_->start();
    io_.run();
    fleet_->run_until_settled();
    signals_.cancel();
    reaper_.stop();
    reaper_.reap_now();
    sentinel_.dismiss();
    return finish();
  }

 private:
  void arm_signals() {
    signals_.async_wait([this](const boost::system::error_code& error, int signo) {
      if (error) return;
      if (stop_signal_ == 0) {
        stop_signal_ = signo;
        report_.stop_reason = "signal " + process::signal_name(signo);
        console_.info(fmt::format("{}: stopping the servers (again to kill them now)", process::signal_name(signo)));
        context_.log.info("supervisor", "stop.requested", fmt::format("{} received", process::signal_name(signo)));
        fleet_->stop();
      } else {
        console_.info("killing the servers now");
        fleet_->kill_now();
      }
      arm_signals();
    });
  }

  int finish() {
    report_.sections["servers"] = fleet_->report();
    report_.sections["alerts"] = alerts_.summary();
    int code = 0;
    if (failed_) {
      report_.outcome = "server_failed";
      code = exit_code::guardian_failed;
    } else if (stop_signal_) {
      report_.outcome = "stopped";
    } else {
      // Every server ended for good by its restart policy: pass the first one's code on.
      report_.outcome = "exited";
      code = last_exit_code();
    }
    report_.exit_code = code;
    context_.log.info("supervisor", "run.finished", fmt::format("finished: exit {}", code),
                      {{"exit_code", code}, {"outcome", report_.outcome}});
    return code;
  }

  int last_exit_code() const {
    for (const auto& server : fleet_->servers())
      if (auto code = server->last_exit_code()) return *code;
    return 0;
  }

  const report::RunDirectory& run_;
  const report::Console& console_;
  report::RunReport& report_;
  boost::asio::io_context io_;
  alerts::AlertBus alerts_;
  RunContext context_;
  process::Sentinel sentinel_;
  process::OrphanReaper reaper_;
  boost::asio::signal_set signals_;
  std::optional<ServerFleet> fleet_;
  int stop_signal_ = 0;
  bool failed_ = false;
};

}  // namespace

int serve(const config::Config& config, std::vector<ServerSpec> specs) {
  std::vector<std::string> command = {"guardian", "serve"};
  for (const auto& spec : specs) command.push_back(spec.name);
  RunOptions options = RunOptions::from_config(config, command);
  report::Console console(options.quiet);
  report::RunReport report;
  report.command = specs.size() == 1 ? specs.front().argv : command;
  if (specs.size() == 1 && specs.front().argv.size() == 3 && specs.front().argv[0] == "/bin/sh")
    report.command = {specs.front().command_text};
  report.mode = options.mode;
  report.working_dir = options.working_dir.string();
  report.started_at = std::chrono::system_clock::now();

  report::RunDirectory run;
  try {
    run = report::RunDirectory::create(options.runs_dir, options.runs_keep);
  } catch (const std::system_error& e) {
    console.error(fmt::format("{}: {}. Choose a writable place with --runs-dir.", e.what(), e.code().message()));
    return exit_code::guardian_failed;
  }
  report.run_id = run.run_id;
  report::EventLog log(run.path / "events.jsonl");
  int code = 0;
  {
    ServeSession session(options, config, run, log, console, report);
    code = session.run(std::move(specs));
  }
  report.ended_at = std::chrono::system_clock::now();
  auto report_path = run.path / "report.json";
  std::string error;
  if (!report.write(report_path, error)) console.error(error + ".");
  if (options.report_copy && !report.write(*options.report_copy, error)) console.error(error + ". Check the --report path.");
  console.info(fmt::format("served for {:.1f}s · exit {} · report {}",
                           std::chrono::duration<double>(report.ended_at - report.started_at).count(), code,
                           report_path.string()));
  return code;
}

}  // namespace guardian::supervise
