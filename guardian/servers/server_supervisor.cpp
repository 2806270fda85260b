#include "guardian/servers/server_supervisor.hpp"

#include <unistd.h>

#include <boost/asio/post.hpp>
#include <csignal>
#include <fmt/format.h>

#include "adapters/uvicorn/uvicorn_adapter.hpp"
#include "guardian/config/quantity.hpp"
#include "guardian/limits/limit_alerts.hpp"
#include "guardian/limits/make_limiter.hpp"
#include "guardian/process/tree_membership.hpp"
#include "guardian/servers/server_text.hpp"

extern char** environ;

namespace guardian::servers {
namespace {

using Clock = std::chrono::steady_clock;
using Milliseconds = std::chrono::milliseconds;
using health::ServerState;

constexpr std::size_t kReportLines = 30;  // output lines in the run report

}  // namespace

ServerSupervisor::ServerSupervisor(context::RunContext& context, ServerSpec spec, ServerHooks hooks,
                                   std::function<void()> changed)
    : context_(context),
      spec_(std::move(spec)),
      hooks_(std::move(hooks)),
      changed_(std::move(changed)),
      lifecycle_(spec_.lifecycle, *this),
      output_(context.io, spec_.name),
      probe_timer_(context.io),
      startup_timer_(context.io),
      restart_timer_(context.io),
      stage_timer_(context.io),
      stable_timer_(context.io),
      marker_entry_(fmt::format("GUARDIAN_SERVER_ID={}/{}", context.run_id, spec_.name)) {
  if (adapters::uvicorn::uses_reload(spec_.argv))
    output_.on_line([this](const std::string& line) { on_output_line(line); });
  if (spec_.probe) {
    health::ProbeOptions options;
    options.healthy_statuses = spec_.healthy_statuses;
    options.environment = environment();
    options.working_dir = spec_.working_dir.empty() ? context_.options.working_dir : spec_.working_dir;
    options.process_started = hooks_.adopt;
    options.process_ended = hooks_.release;
    probe_ = health::make_probe(context.io, *spec_.probe, std::move(options));
  }
}

ServerSupervisor::~ServerSupervisor() {
  probe_.reset();
  // Normally stopped long before; if not, never leave the server running.
  if (command_ && command_->running()) command_->relay(SIGKILL);
}

void ServerSupervisor::start() {
  lifecycle_.start(Clock::now());
  changed_();
}

void ServerSupervisor::stop() {
  lifecycle_.request_stop(Clock::now());
  changed_();
}

void ServerSupervisor::kill_now() {
  if (command_) command_->escalate();
}

void ServerSupervisor::relay(int signo) const {
  if (command_ && command_->running()) command_->relay(signo);
}

std::optional<limits::TreeUsage> ServerSupervisor::usage() {
  if (!command_) return std::nullopt;
  return command_->limiter().sample();
}

bool ServerSupervisor::is_settled() const {
  auto state = lifecycle_.state();
  return !command_ && state != ServerState::starting && state != ServerState::running &&
         state != ServerState::stopping && state != ServerState::backoff;
}

std::optional<pid_t> ServerSupervisor::root_pid() const {
  if (command_ && pid_ > 0) return pid_;
  return std::nullopt;
}

std::vector<std::string> ServerSupervisor::environment() const {
  std::vector<std::string> env;
  bool python_unbuffered = false;
  for (char** e = environ; e && *e; ++e) {
    std::string_view entry(*e);
    if (entry.starts_with("GUARDIAN_RUN_ID=") || entry.starts_with("GUARDIAN_RUN_DIR=") ||
        entry.starts_with("GUARDIAN_SERVER_ID=") || entry.starts_with("GUARDIAN_SERVER_NAME="))
      continue;
    python_unbuffered = python_unbuffered || entry.starts_with("PYTHONUNBUFFERED=");
    env.emplace_back(entry);
  }
  env.push_back(context_.marker_entry);  // the run's marker: the sentinel's last sweep finds servers too
  env.push_back("GUARDIAN_RUN_DIR=" + context_.run_dir.string());
  env.push_back(marker_entry_);  // this server's own tree
  env.push_back("GUARDIAN_SERVER_NAME=" + spec_.name);
  // Python buffers stdout into a pipe; the last lines before a crash are the ones that matter.
  if (!python_unbuffered) env.emplace_back("PYTHONUNBUFFERED=1");
  return env;
}

// ---- actions ----------------------------------------------------------------------------

bool ServerSupervisor::launch(const health::AttemptInfo& attempt) {
  reload_started_.reset();
  ++attempt_id_;
  stop_started_ = false;
  process::LaunchSpec launch;
  launch.program = spec_.program;
  launch.argv = spec_.argv;
  launch.environment = environment();
  launch.working_dir = spec_.working_dir.empty() ? context_.options.working_dir : spec_.working_dir;
  if (auto error = output_.prepare(launch)) {
    auto message = fmt::format("server '{}': cannot create its output pipes: {}. Check the open file limit (ulimit -n).",
                               spec_.name, error.message());
    context_.console.error(message);
    context_.log.write(report::Level::error, "servers", "server.launch_failed", message, {{"server", spec_.name}});
    return false;
  }
  process::TreeMembership membership(process::ProcFs{}, ::getpid(), marker_entry_);
  auto limiter = limits::make_limiter(limits::LimiterRequest{
      context_.config, context_.io.get_executor(), std::move(membership), spec_.name,
      context_.limits_fallback, hooks_.run_cgroups});
  // A server at its memory ceiling is killed like the main command would be; it then counts
  // as down (or as a failed start) and its restart policy applies.
  limiter->on_breach([this, id = attempt_id_](const limits::Breach& breach) {
    if (id != attempt_id_ || !command_) return;
    context_.console.error(fmt::format("server '{}': {}", spec_.name, breach.message));
    context_.log.write(report::Level::error, "limits", "memory.ceiling_kill", breach.message,
                       {{"server", spec_.name}, {"breach", breach.to_json()}});
    if (breach.kind == limits::Breach::Kind::memory_ceiling) {
      context_.alerts.raise(limits::ceiling_kill_alert(breach, spec_.name, spec_.command_text));
      if (!breach.kernel_killed) command_->stop(SIGTERM, breach.grace);
    }
  });
  enforcement_ = limiter->report();
  if (auto kill_file = limiter->kill_file(); !kill_file.empty() && hooks_.watch_kill_file)
    hooks_.watch_kill_file(kill_file);
  command_.emplace(context_.io, spec_.name, std::move(launch), std::move(limiter), spec_.stop_grace,
                   supervise::SupervisedCommand::Callbacks{[this](const process::ExitStatus& status) { on_exit(status); },
                                                [this] { on_finished(); }});
  if (auto error = command_->start()) {
    output_.abandon();
    command_.reset();
    auto message = fmt::format("server '{}': cannot start '{}': {}. Check servers.{}.command.", spec_.name,
                               spec_.argv.at(0), error.message(), spec_.name);
    context_.console.error(message);
    context_.log.write(report::Level::error, "servers", "server.launch_failed", message,
                       {{"server", spec_.name}, {"errno", error.value()}});
    return false;
  }
  output_.launched();
  pid_ = command_->pid();
  if (hooks_.adopt) hooks_.adopt(pid_);
  if (hooks_.watch_group) hooks_.watch_group(pid_);
  context_.log.info("servers", "server.launched",
                    fmt::format("server '{}' launched (pid {}, attempt {}, startup timeout {})", spec_.name, pid_,
                                attempt.attempt, config::format_duration(attempt.startup_timeout)),
                    {{"server", spec_.name},
                     {"pid", pid_},
                     {"launch", attempt.launch},
                     {"attempt", attempt.attempt},
                     {"startup_timeout_ms", attempt.startup_timeout.count()}});
  publish_state(nullptr);
  startup_timer_.expires_after(attempt.startup_timeout);
  startup_timer_.async_wait([this](const boost::system::error_code& error) {
    if (error) return;
    lifecycle_.on_startup_deadline(Clock::now());
    changed_();
  });
  if (probe_) {
    schedule_probe(startup_probe_interval());
  } else {
    // No health check: running is all there is to know.
    boost::asio::post(context_.io, [this, id = attempt_id_] {
      if (id != attempt_id_) return;
      lifecycle_.on_probe(Clock::now(), health::ProbeClass::ok, Milliseconds{0}, "running");
      changed_();
    });
  }
  return true;
}

void ServerSupervisor::stop_tree() {
  startup_timer_.cancel();
  stable_timer_.cancel();  // a pending stable check must not keep the loop alive
  probe_timer_.cancel();
  if (probe_) probe_->cancel();
  probe_in_flight_ = false;
  if (!command_ || stop_started_) return;
  stop_started_ = true;
  const auto stages = static_cast<int>(spec_.stop_signals.size());
  context_.log.info("servers", "server.stopping",
                    fmt::format("stopping server '{}' ({} first, SIGKILL after {})", spec_.name,
                                process::signal_name(spec_.stop_signals.front()),
                                config::format_duration(spec_.stop_grace * stages)),
                    {{"server", spec_.name}, {"pid", pid_}});
  if (command_->running()) {
    // The graceful signal goes out once, like Ctrl-C in a terminal: to the server's process
    // group, or to the root alone when it stops the rest itself (uvicorn --reload). Sent
    // through the limiter it would reach each process twice (group, then each member), and
    // a second SIGINT means "quit now" to uvicorn. The limiter only wakes the tree up (a
    // held process must run to stop) and arms the SIGKILL deadline; later stages reach
    // every process of the tree, escapees included.
    ::kill(spec_.signal_root_first ? pid_ : -pid_, spec_.stop_signals.front());
    command_->stop(SIGCONT, spec_.stop_grace * stages);
  } else {
    command_->stop(spec_.stop_signals.front(), spec_.stop_grace * stages);
  }
  if (stages > 1) signal_stage(1);
}

// The next signal of a graceful stop, one grace after the previous (SIGKILL is armed by
// SupervisedCommand::stop at the end of all stages).
void ServerSupervisor::signal_stage(std::size_t index) {
  stage_timer_.expires_after(spec_.stop_grace);
  stage_timer_.async_wait([this, index, id = attempt_id_](const boost::system::error_code& error) {
    if (error || id != attempt_id_ || !command_) return;
    int signo = spec_.stop_signals[index];
    std::size_t signalled = command_->limiter().signal_all(signo);
    context_.log.info("servers", "server.stop_escalated",
                      fmt::format("server '{}' still running: sent {}", spec_.name, process::signal_name(signo)),
                      {{"server", spec_.name}, {"signal", process::signal_name(signo)}, {"processes", signalled}});
    if (index + 1 < spec_.stop_signals.size()) signal_stage(index + 1);
  });
}

void ServerSupervisor::schedule_restart(Milliseconds delay) {
  context_.log.info("servers", "server.restart_scheduled",
                    fmt::format("server '{}' restarts in {}", spec_.name, human_duration(delay)),
                    {{"server", spec_.name}, {"delay_ms", delay.count()}});
  restart_timer_.expires_after(delay);
  restart_timer_.async_wait([this](const boost::system::error_code& error) {
    if (error) return;
    lifecycle_.on_restart_due(Clock::now());
    changed_();
  });
}

void ServerSupervisor::cancel_restart() { restart_timer_.cancel(); }

void ServerSupervisor::schedule_stable_check(Milliseconds delay) {
  stable_timer_.expires_after(delay);
  stable_timer_.async_wait([this](const boost::system::error_code& error) {
    if (error) return;
    lifecycle_.on_stable_due(Clock::now());
    changed_();
  });
}

// ---- events from the process ------------------------------------------------------------

void ServerSupervisor::on_exit(const process::ExitStatus& status) {
  last_exit_ = status;
  bool clean = status.kind == process::ExitStatus::Kind::exited && status.code == 0;
  context_.log.info("servers", "server.exited", fmt::format("server '{}' {}", spec_.name, status.describe()),
                    {{"server", spec_.name}, {"pid", pid_}, {"status", status.describe()}});
  lifecycle_.on_exited(Clock::now(), clean, status.describe());
  publish_state(nullptr);
  changed_();
}

void ServerSupervisor::on_finished() {
  // Called from inside the SupervisedCommand: destroy it only once that call has returned.
  boost::asio::post(context_.io, [this, id = attempt_id_] {
    if (id != attempt_id_ || !command_) return;
    if (hooks_.release) hooks_.release(pid_);
    pid_ = -1;
    enforcement_ = command_->limiter().report();  // what it enforced, read before the limiter goes
    command_.reset();
    stage_timer_.cancel();
    startup_timer_.cancel();
    lifecycle_.on_finished(Clock::now());
    changed_();
  });
}
nlohmann::json ServerSupervisor::report() const {
  nlohmann::json startup_times = nlohmann::json::array();
  for (auto t : lifecycle_.startup_times()) startup_times.push_back(t.count());
  auto give_up = lifecycle_.give_up();
  return {
      {"command", spec_.command_text},
      {"health", spec_.probe ? nlohmann::json(health::describe(*spec_.probe)) : nlohmann::json()},
      {"state", to_string(lifecycle_.state())},
      {"healthy", is_healthy()},
      {"launches", lifecycle_.launches()},
      {"restarts", lifecycle_.restarts()},
      {"downs", lifecycle_.downs()},
      {"failed_starts", lifecycle_.failed_starts_total()},
      {"startup_times_ms", startup_times},
      {"probe_interval_ms", probe_interval().count()},
      {"last_probe", last_probe_ ? probe_json(*last_probe_) : nlohmann::json()},
      {"last_probe_latency_ms", last_probe_ ? nlohmann::json(last_probe_->latency.count()) : nlohmann::json()},
      {"last_exit", last_exit_ ? nlohmann::json(last_exit_->describe()) : nlohmann::json()},
      {"gave_up", give_up ? nlohmann::json{{"reason", to_string(give_up->reason)}, {"detail", give_up->detail}}
                          : nlohmann::json()},
      {"probes", probes_counted_},
      {"probes_ok", probes_ok_},
      {"flapping", lifecycle_.flapping()},
      {"restart_policy", to_string(spec_.lifecycle.restart)},
      {"output_lines", output_.total_lines()},
      {"last_output", output_.last_lines(kReportLines)},
  };
}

// What plugins see of a server after each step (status API, /metrics, dashboard): its
// state and counts, and the probe that just finished, if one did.
void ServerSupervisor::publish_state(const health::ProbeResult* probe) const {
  if (!context_.observe) return;
  const auto snapshot = report();
  context_.observe("server", {{"server", spec_.name},
                              {"state", snapshot["state"]},
                              {"healthy", snapshot["healthy"]},
                              {"launches", snapshot["launches"]},
                              {"restarts", snapshot["restarts"]},
                              {"downs", snapshot["downs"]},
                              {"flapping", snapshot["flapping"]},
                              {"probes", snapshot["probes"]},
                              {"probes_ok", snapshot["probes_ok"]},
                              {"health", snapshot["health"]},
                              {"last_probe_latency_ms", snapshot["last_probe_latency_ms"]},
                              {"probe", probe ? probe_json(*probe) : nlohmann::json()}});
}

}  // namespace guardian::servers
