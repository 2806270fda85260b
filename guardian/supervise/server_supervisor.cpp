#include "guardian/supervise/server_supervisor.hpp"

#include <unistd.h>

#include <boost/asio/post.hpp>
#include <csignal>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "adapters/uvicorn/uvicorn_adapter.hpp"
#include "guardian/config/quantity.hpp"
#include "guardian/limits/limit_alerts.hpp"
#include "guardian/limits/make_limiter.hpp"
#include "guardian/process/tree_membership.hpp"

extern char** environ;

namespace guardian::supervise {
namespace {

using Clock = std::chrono::steady_clock;
using Milliseconds = std::chrono::milliseconds;
using health::ServerState;
using namespace std::chrono_literals;

// While a server starts it is probed this often (or at the monitor's interval if shorter),
// so "healthy" is noticed quickly whatever the level.
constexpr Milliseconds kStartupProbeInterval = 100ms;
constexpr std::size_t kMessageLines = 10;  // output lines in messages and alerts
constexpr std::size_t kReportLines = 30;

// "850ms", "1.2s", "95s", "4m10s": short and readable.
std::string human(Milliseconds duration) {
  if (duration < 1s) return fmt::format("{}ms", duration.count());
  if (duration < 10s) return fmt::format("{:.1f}s", static_cast<double>(duration.count()) / 1000.0);
  return config::format_duration(std::chrono::duration_cast<std::chrono::seconds>(duration));
}

nlohmann::json probe_json(const health::ProbeResult& result) {
  return {{"ok", result.ok},
          {"latency_ms", result.latency.count()},
          {"detail", result.detail},
          {"http_status", result.http_status ? nlohmann::json(result.http_status) : nlohmann::json()}};
}

// What plugins see of a server after each step (status API, /metrics, dashboard): its
// state and counts, and the probe that just finished, if one did.
void observe(const RunContext& context, const std::string& name, const nlohmann::json& report,
             const health::ProbeResult* probe) {
  if (!context.observe) return;
  context.observe("server", {{"server", name},
                             {"state", report["state"]},
                             {"healthy", report["healthy"]},
                             {"launches", report["launches"]},
                             {"restarts", report["restarts"]},
                             {"downs", report["downs"]},
                             {"health", report["health"]},
                             {"last_probe_latency_ms", report["last_probe_latency_ms"]},
                             {"probe", probe ? probe_json(*probe) : nlohmann::json()}});
}

}  // namespace

ServerSupervisor::ServerSupervisor(RunContext& context, ServerSpec spec, ServerHooks hooks,
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
      marker_entry_(fmt::format("GUARDIAN_SERVER_ID={}/{}", context.run_id, spec_.name)) {
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

bool ServerSupervisor::is_settled() const {
  auto state = lifecycle_.state();
  return !command_ && state != ServerState::starting && state != ServerState::running &&
         state != ServerState::stopping && state != ServerState::backoff;
}

std::optional<pid_t> ServerSupervisor::root_pid() const {
  if (command_ && pid_ > 0) return pid_;
  return std::nullopt;
}

ServerSupervisor::Milliseconds ServerSupervisor::probe_interval() const {
  return spec_.pinned_probe_interval.value_or(level_interval_);
}

void ServerSupervisor::set_probe_interval(Milliseconds interval) {
  if (interval.count() <= 0) return;
  level_interval_ = interval;
  if (spec_.pinned_probe_interval || probe_in_flight_ || lifecycle_.state() != ServerState::running) return;
  // A shorter interval takes effect now, not after the longer wait already armed.
  auto due = probe_started_ + interval;
  if (due < probe_timer_.expiry())
    schedule_probe(std::max(Milliseconds{0}, std::chrono::duration_cast<Milliseconds>(due - Clock::now())));
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
      [this](const std::string& event, const std::string& message) {
        context_.console.error(message);
        context_.log.warning("limits", event, message, {{"server", spec_.name}});
      }});
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
  if (auto kill_file = limiter->kill_file(); !kill_file.empty() && hooks_.watch_kill_file)
    hooks_.watch_kill_file(kill_file);
  command_.emplace(context_.io, spec_.name, std::move(launch), std::move(limiter), spec_.stop_grace,
                   SupervisedCommand::Callbacks{[this](const process::ExitStatus& status) { on_exit(status); },
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
  observe(context_, spec_.name, report(), nullptr);
  startup_timer_.expires_after(attempt.startup_timeout);
  startup_timer_.async_wait([this](const boost::system::error_code& error) {
    if (error) return;
    lifecycle_.on_startup_deadline(Clock::now());
    changed_();
  });
  if (probe_) {
    schedule_probe(std::min(kStartupProbeInterval, probe_interval()));
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
                    fmt::format("server '{}' restarts in {}", spec_.name, human(delay)),
                    {{"server", spec_.name}, {"delay_ms", delay.count()}});
  restart_timer_.expires_after(delay);
  restart_timer_.async_wait([this](const boost::system::error_code& error) {
    if (error) return;
    lifecycle_.on_restart_due(Clock::now());
    changed_();
  });
}

void ServerSupervisor::cancel_restart() { restart_timer_.cancel(); }

// ---- events from the process and the probe ---------------------------------------------

void ServerSupervisor::on_exit(const process::ExitStatus& status) {
  last_exit_ = status;
  bool clean = status.kind == process::ExitStatus::Kind::exited && status.code == 0;
  context_.log.info("servers", "server.exited", fmt::format("server '{}' {}", spec_.name, status.describe()),
                    {{"server", spec_.name}, {"pid", pid_}, {"status", status.describe()}});
  lifecycle_.on_exited(Clock::now(), clean, status.describe());
  observe(context_, spec_.name, report(), nullptr);
  changed_();
}

void ServerSupervisor::on_finished() {
  // Called from inside the SupervisedCommand: destroy it only once that call has returned.
  boost::asio::post(context_.io, [this, id = attempt_id_] {
    if (id != attempt_id_ || !command_) return;
    if (hooks_.release) hooks_.release(pid_);
    pid_ = -1;
    command_.reset();
    stage_timer_.cancel();
    startup_timer_.cancel();
    lifecycle_.on_finished(Clock::now());
    changed_();
  });
}

void ServerSupervisor::schedule_probe(Milliseconds delay) {
  probe_timer_.expires_after(delay);
  probe_timer_.async_wait([this](const boost::system::error_code& error) {
    if (!error) run_probe();
  });
}

void ServerSupervisor::run_probe() {
  auto state = lifecycle_.state();
  if (!probe_ || (state != ServerState::starting && state != ServerState::running)) return;
  probe_in_flight_ = true;
  probe_started_ = Clock::now();
  probe_->start(spec_.probe_timeout,
                [this, id = attempt_id_](health::ProbeResult result) { on_probe_result(id, result); });
}

void ServerSupervisor::on_probe_result(unsigned attempt_id, const health::ProbeResult& result) {
  probe_in_flight_ = false;
  if (attempt_id != attempt_id_) return;
  last_probe_ = result;
  last_probe_at_ = std::chrono::system_clock::now();
  lifecycle_.on_probe(Clock::now(), health::classify(result, spec_.slow), result.latency, result.detail);
  observe(context_, spec_.name, report(), &result);
  auto state = lifecycle_.state();
  if (state == ServerState::starting || state == ServerState::running) {
    auto interval = state == ServerState::starting ? std::min(kStartupProbeInterval, probe_interval()) : probe_interval();
    auto wait = std::chrono::duration_cast<Milliseconds>(probe_started_ + interval - Clock::now());
    schedule_probe(std::max(Milliseconds{0}, wait));
  }
  changed_();
}

// ---- notices ------------------------------------------------------------------------------

void ServerSupervisor::healthy(const health::HealthyInfo& info) {
  last_start_failure_.reset();
  startup_timer_.cancel();
  if (spec_.probe)
    context_.console.info(fmt::format("server '{}' is healthy after {}{}", spec_.name, human(info.startup_time),
                                      info.attempts > 1 ? fmt::format(" (attempt {})", info.attempts) : ""));
  else
    context_.console.info(fmt::format("server '{}' is running (no health check: only its exit is watched)",
                                      spec_.name));
  context_.log.info("servers", "server.healthy",
                    fmt::format("server '{}' healthy after {}", spec_.name, human(info.startup_time)),
                    {{"server", spec_.name},
                     {"pid", pid_},
                     {"startup_ms", info.startup_time.count()},
                     {"attempt", info.attempts},
                     {"restart", info.restart}});
  if (info.slow) {
    auto message = fmt::format("server '{}' took {} to answer its first health check (slower than {})", spec_.name,
                               human(info.startup_time), human(spec_.lifecycle.slow_start));
    auto context = alert_context("slow_start");
    context["startup_ms"] = info.startup_time.count();
    context["threshold_ms"] = spec_.lifecycle.slow_start.count();
    context_.alerts.raise(alerts::AlertSpec{alerts::AlertType::server_slow, alerts::Severity::warning, spec_.name,
                                            fmt::format("server '{}' started slowly", spec_.name), message, "health",
                                            context});
    if (hooks_.pulse) hooks_.pulse(alerts::Severity::warning, message);
  }
  condition("down", std::nullopt);
  if (down_alert_active_) {
    down_alert_active_ = false;
    auto message = fmt::format("server '{}' is healthy again after {}", spec_.name, human(info.startup_time));
    context_.alerts.raise(alerts::AlertSpec{alerts::AlertType::server_up, alerts::Severity::info, spec_.name,
                                            fmt::format("server '{}' is up", spec_.name), message, "health",
                                            alert_context("healthy")});
  }
}

void ServerSupervisor::start_failed(const health::StartFailureInfo& info) {
  last_start_failure_ = info;
  std::string what;
  switch (info.reason) {
    case health::StartFailure::timed_out: what = info.detail; break;
    case health::StartFailure::exited: what = fmt::format("it {} before answering its health check", info.detail); break;
    case health::StartFailure::launch_failed: what = "it could not be launched"; break;
  }
  std::string next = info.retry_in ? fmt::format("; retrying in {} with a {} startup timeout", human(*info.retry_in),
                                                 config::format_duration(info.next_startup_timeout.value_or(info.startup_timeout)))
                                   : "";
  auto message = fmt::format("server '{}' did not start: {} (attempt {}){}", spec_.name, what, info.failed_attempts, next);
  context_.console.error(message);
  context_.log.warning("servers", "server.start_failed", message,
                       {{"server", spec_.name},
                        {"reason", to_string(info.reason)},
                        {"elapsed_ms", info.elapsed.count()},
                        {"startup_timeout_ms", info.startup_timeout.count()},
                        {"attempt", info.failed_attempts},
                        {"retry_in_ms", info.retry_in ? nlohmann::json(info.retry_in->count()) : nlohmann::json()},
                        {"last_output", output_.last_lines(kMessageLines)}});
}

void ServerSupervisor::probe_failing(unsigned consecutive, unsigned limit) {
  auto detail = last_probe_ ? last_probe_->detail : std::string("no answer");
  auto message = fmt::format("server '{}' failed a health check ({}); down after {} in a row", spec_.name, detail, limit);
  context_.console.info(message);
  context_.log.warning("servers", "server.probe_failed", message,
                       {{"server", spec_.name}, {"consecutive", consecutive}, {"limit", limit}, {"detail", detail}});
  condition("probe", alerts::Severity::warning, message);
}

void ServerSupervisor::probe_recovered(unsigned failures) {
  condition("probe", std::nullopt);
  context_.log.info("servers", "server.probe_recovered",
                    fmt::format("server '{}' answers its health check again after {} failure(s)", spec_.name, failures),
                    {{"server", spec_.name}, {"failures", failures}});
}

void ServerSupervisor::slow_probe(health::ProbeClass probe_class, Milliseconds latency) {
  bool critical = probe_class == health::ProbeClass::slow_critical;
  auto threshold = critical ? spec_.slow.critical : spec_.slow.warning;
  auto message = fmt::format("server '{}' answered its health check in {} (slower than {})", spec_.name,
                             human(latency), human(threshold));
  auto context = alert_context("slow_answer");
  context["latency_ms"] = latency.count();
  context["threshold_ms"] = threshold.count();
  auto severity = critical ? alerts::Severity::critical : alerts::Severity::warning;
  context_.log.warning("servers", "server.slow", message, context);
  context_.alerts.raise(alerts::AlertSpec{alerts::AlertType::server_slow, severity, spec_.name,
                                          fmt::format("server '{}' is slow", spec_.name), message, "health", context});
  if (hooks_.pulse) hooks_.pulse(severity, message);
}

void ServerSupervisor::down(const health::DownInfo& info) {
  last_down_ = info;
  std::string after = info.restart_in ? fmt::format("; restarting in {}", human(*info.restart_in))
                                      : fmt::format("; not restarted (restart = {})", to_string(spec_.lifecycle.restart));
  auto message = fmt::format("server '{}' went down: {} after {} up{}{}", spec_.name, info.detail, human(info.uptime),
                             test_phrase(), after);
  auto context = alert_context(to_string(info.reason));
  context["uptime_ms"] = info.uptime.count();
  context["restart_in_ms"] = info.restart_in ? nlohmann::json(info.restart_in->count()) : nlohmann::json();
  if (auto hint = adapters::uvicorn::down_hint(spec_.argv); !hint.empty()) context["hint"] = hint;
  context_.console.error(message);
  context_.log.write(report::Level::error, "servers", "server.down", message, context);
  context_.alerts.raise(alerts::AlertSpec{alerts::AlertType::server_down, alerts::Severity::critical, spec_.name,
                                          fmt::format("server '{}' is down", spec_.name), message, "health", context});
  down_alert_active_ = true;
  condition("probe", std::nullopt);
  condition("down", alerts::Severity::critical, message);
}

void ServerSupervisor::gave_up(const health::GiveUpInfo& info) {
  auto message = fmt::format("server '{}' given up: {}", spec_.name, info.detail);
  auto context = alert_context(to_string(info.reason));
  context["failed_starts"] = info.failed_starts;
  context_.log.write(report::Level::error, "servers", "server.fatal", message, context);
  context_.alerts.raise(alerts::AlertSpec{alerts::AlertType::critical, alerts::Severity::critical, spec_.name,
                                          fmt::format("server '{}' given up", spec_.name), failure_message(), "health",
                                          context});
  condition("probe", std::nullopt);
  condition("down", alerts::Severity::critical, message);
}

void ServerSupervisor::settled(health::ServerState state) {
  // Stopped on request, or down for good by its policy: nothing left for the monitor to watch.
  condition("probe", std::nullopt);
  condition("down", std::nullopt);
  context_.log.info("servers", "server.settled", fmt::format("server '{}' {}", spec_.name, to_string(state)),
                    {{"server", spec_.name}, {"state", to_string(state)}});
  observe(context_, spec_.name, report(), nullptr);
}

// ---- messages and report ----------------------------------------------------------------

void ServerSupervisor::condition(std::string_view what, std::optional<alerts::Severity> severity,
                                 const std::string& reason) {
  if (hooks_.condition) hooks_.condition(fmt::format("server.{}.{}", spec_.name, what), severity, reason);
}

std::string ServerSupervisor::test_phrase() const {
  if (!hooks_.running_test) return {};
  auto test = hooks_.running_test();
  if (test.is_string()) return fmt::format(" while test {} was running", test.get<std::string>());
  if (test.is_object() && test.contains("nodeid") && test["nodeid"].is_string())
    return fmt::format(" while test {} was running", test["nodeid"].get<std::string>());
  return {};
}

nlohmann::json ServerSupervisor::alert_context(std::string_view reason) const {
  nlohmann::json context = {
      {"server", spec_.name},
      {"reason", reason},
      {"state", to_string(lifecycle_.state())},
      {"command", spec_.command_text},
      {"health", spec_.probe ? nlohmann::json(health::describe(*spec_.probe)) : nlohmann::json()},
      {"pid", pid_ > 0 ? nlohmann::json(pid_) : nlohmann::json()},
      {"restarts", lifecycle_.restarts()},
      // Filled by the test-runner adapter (which test was running when it happened); null until then.
      {"running_test", hooks_.running_test ? hooks_.running_test() : nlohmann::json()},
      {"last_probe", last_probe_ ? probe_json(*last_probe_) : nlohmann::json()},
      {"exit", last_exit_ ? nlohmann::json(last_exit_->describe()) : nlohmann::json()},
      {"last_output", output_.last_lines(kMessageLines)},
  };
  return context;
}

std::string ServerSupervisor::output_tail(std::size_t lines, std::string_view indent) const {
  auto tail = output_.last_lines(lines);
  if (tail.empty()) return fmt::format("{}(it printed nothing)", indent);
  std::string out;
  for (const auto& line : tail) out += fmt::format("{}[{}] {}\n", indent, spec_.name, line);
  if (!out.empty()) out.pop_back();
  return out;
}

std::string ServerSupervisor::failure_message() const {
  auto give_up = lifecycle_.give_up();
  std::string headline;
  std::string last = last_start_failure_ ? last_start_failure_->reason == health::StartFailure::exited
                                               ? fmt::format("it {}", last_start_failure_->detail)
                                               : last_start_failure_->detail
                                         : std::string("unknown");
  if (!give_up) {
    headline = fmt::format("server '{}' is not running ({})", spec_.name, to_string(lifecycle_.state()));
  } else if (give_up->reason == health::GiveUpReason::breaker) {
    headline = fmt::format("server '{}' keeps failing to start ({}; last: {}); guardian gave up on it (circuit breaker)",
                           spec_.name, give_up->detail, last);
  } else if (give_up->reason == health::GiveUpReason::never_healthy) {
    headline = fmt::format("server '{}' never became healthy: {} attempts with startup timeouts of {} (last: {})",
                           spec_.name, give_up->failed_starts,
                           fmt::join([&] {
                             std::vector<std::string> list;
                             for (auto t : spec_.lifecycle.startup_timeouts) list.push_back(config::format_duration(t));
                             return list;
                           }(), ", "),
                           last);
  } else {
    headline = fmt::format("server '{}' failed to start ({}) and its restart policy is 'never'", spec_.name, last);
  }
  auto health_text = spec_.probe ? health::describe(*spec_.probe) : std::string("(no health check)");
  return fmt::format("{}.\nIts last output:\n{}\nRun its command by hand to see why ({}), check that {} answers, "
                     "or allow more time with servers.{}.startup_timeouts.",
                     headline, output_tail(kMessageLines, "  "), spec_.command_text, health_text, spec_.name);
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
      {"restart_policy", to_string(spec_.lifecycle.restart)},
      {"output_lines", output_.total_lines()},
      {"last_output", output_.last_lines(kReportLines)},
  };
}

}  // namespace guardian::supervise
