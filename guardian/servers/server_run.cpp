#include "guardian/servers/server_run.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "guardian/limits/process_tree_limiter.hpp"
#include "guardian/monitor/monitor.hpp"
#include "guardian/process/exit_status.hpp"

namespace guardian::servers {
namespace {

// Probes follow the monitor's level (NORMAL 5s, INTENSIVE 1s, CRITICAL 500ms), but IDLE
// must not make a dead server take minutes to notice: never slower than NORMAL.
std::chrono::milliseconds probe_interval_for(const monitor::Monitor& monitor, monitor::Level level) {
  const auto& intervals = monitor.settings().intervals;
  return std::min(intervals[level].check_interval, intervals[monitor::Level::normal].check_interval);
}

monitor::Severity to_monitor(alerts::Severity severity) {
  return severity == alerts::Severity::critical ? monitor::Severity::critical : monitor::Severity::warning;
}

}  // namespace

RunServers::RunServers(context::RunContext& context, process::OrphanReaper& reaper, process::Sentinel& sentinel)
    : context_(context), reaper_(reaper), sentinel_(sentinel) {}

std::optional<int> RunServers::start_and_wait() {
  auto specs = ServerSpec::all_from_config(context_.config);
  if (specs.empty()) return std::nullopt;
  std::vector<std::string> names;
  for (auto& spec : specs) {
    // Before the command starts, one attempt per startup timeout: a server that cannot come
    // up must end the run rather than keep a CI job waiting forever.
    spec.lifecycle.initial_attempts = static_cast<unsigned>(spec.lifecycle.startup_timeouts.size());
    names.push_back(spec.name);
  }
  ServerHooks hooks;
  hooks.adopt = [this](pid_t pid) { reaper_.own(pid); };
  hooks.release = [this](pid_t pid) { reaper_.disown(pid); };
  hooks.watch_group = [this](pid_t pid) {
    sentinel_.watch_group(pid);
    // A server restarted while the command runs is a child of guardian like the command's
    // own escapees: without this the command's tree would claim it (its samples, its last
    // sweep's SIGTERM).
    if (main_membership_) main_membership_->exclude_subtree(pid);
  };
  hooks.watch_kill_file = [this](const std::string& file) { sentinel_.watch_cgroup_kill_file(file); };
  hooks.running_test = [this] { return context_.running_test ? context_.running_test() : nlohmann::json(); };
  if (auto* monitor = context_.monitor) {
    // A server down takes the monitor to CRITICAL; a failed probe to at least INTENSIVE.
    hooks.condition = [monitor](const std::string& key, std::optional<alerts::Severity> severity,
                                const std::string& reason) {
      if (severity) monitor->raise_condition(key, to_monitor(*severity), reason);
      else monitor->clear_condition(key);
    };
    hooks.pulse = [monitor](alerts::Severity severity, const std::string& reason) {
      monitor->pulse(to_monitor(severity), reason);
    };
  }
  fleet_.emplace(context_, std::move(specs), std::move(hooks));
  if (auto* monitor = context_.monitor) {
    fleet_->set_probe_interval(probe_interval_for(*monitor, monitor->level()));
    monitor->on_level_change([this, monitor, alive = std::weak_ptr<bool>(alive_)](const monitor::LevelChange& change) {
      if (alive.expired() || !fleet_) return;
      fleet_->set_probe_interval(probe_interval_for(*monitor, change.to));
    });
  }

  context_.console.info(fmt::format("starting server{} {}; the command starts once {} healthy",
                                    names.size() > 1 ? "s" : "", fmt::join(names, ", "),
                                    names.size() > 1 ? "they are" : "it is"));
  context_.log.info("servers", "servers.starting", "starting servers", {{"servers", names}});
  fleet_->start();
  int signal_number = 0;
  switch (fleet_->run_until_ready(signal_number)) {
    case ServerFleet::Readiness::ready:
      context_.log.info("servers", "servers.ready", "every server is healthy", {{"servers", names}});
      return std::nullopt;
    case ServerFleet::Readiness::failed: {
      auto* server = fleet_->given_up();
      context_.console.error(fmt::format("{}\nThe command was not started.",
                                         server ? server->failure_message() : std::string("the servers could not start")));
      context_.report.stop_reason = server ? fmt::format("server '{}' never became healthy", server->name())
                                           : std::string("servers failed");
      return stop_before_command(process::exit_code::guardian_failed, "server_failed");
    }
    case ServerFleet::Readiness::interrupted:
      context_.console.info(fmt::format("{} while the servers were starting: stopping them; the command was not started",
                                        process::signal_name(signal_number)));
      context_.report.stop_reason = "signal " + process::signal_name(signal_number);
      return stop_before_command(process::exit_code::signal_base + signal_number, "interrupted");
  }
  return std::nullopt;
}

std::optional<int> RunServers::stop_before_command(int code, const std::string& outcome) {
  fleet_->stop();
  fleet_->run_until_settled();
  finished_ = true;
  context_.report.outcome = outcome;
  context_.report.sections["servers"] = fleet_->report();
  context_.report.sections["alerts"] = context_.alerts.summary();
  return code;
}

void RunServers::exclude_from(process::TreeMembership& membership) const {
  if (!fleet_) return;
  for (pid_t pid : fleet_->root_pids()) membership.exclude_subtree(pid);
}

void RunServers::watch_main_tree(limits::Limiter& main_limiter) {
  if (!fleet_) return;
  if (auto* tree = dynamic_cast<limits::ProcessTreeLimiter*>(&main_limiter)) main_membership_ = &tree->membership();
}

void RunServers::on_fatal(std::function<void()> stop_command) {
  if (!fleet_) return;
  fleet_->on_gave_up([this, stop_command = std::move(stop_command)](ServerSupervisor& server) {
    if (failed_) return;
    failed_ = true;
    context_.console.error(server.failure_message() + "\nStopping the command (exit 125).");
    context_.report.stop_reason = fmt::format("server '{}' gave up", server.name());
    if (stop_command) stop_command();
  });
}

void RunServers::command_ended() {
  if (fleet_ && !fleet_->stopping()) fleet_->stop();
}

std::optional<int> RunServers::finish() {
  if (!fleet_ || finished_) return std::nullopt;
  finished_ = true;
  fleet_->run_until_settled();
  context_.report.sections["servers"] = fleet_->report();
  if (failed_) return process::exit_code::guardian_failed;
  return std::nullopt;
}

}  // namespace guardian::servers
