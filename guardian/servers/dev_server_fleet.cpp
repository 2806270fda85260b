#include "guardian/servers/dev_server_fleet.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <fmt/format.h>
#include <fmt/ranges.h>

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

DevServerFleet::DevServerFleet(context::RunContext& context, std::vector<ServerSpec> specs, Role role,
                               process::OrphanReaper& reaper, process::Sentinel& sentinel,
                               limits::RunCgroups& run_cgroups)
    : context_(context), reaper_(reaper), sentinel_(sentinel), run_cgroups_(run_cgroups) {
  auto hooks = make_hooks();
  for (auto& spec : specs) {
    if (role == Role::beside_command)
      spec.lifecycle.initial_attempts = static_cast<unsigned>(spec.lifecycle.startup_timeouts.size());
    servers_.push_back(std::make_unique<ServerSupervisor>(context, std::move(spec), hooks, [this] { changed(); }));
  }
  gave_up_reported_.assign(servers_.size(), false);
  follow_monitor();
}

DevServerFleet::~DevServerFleet() { *alive_ = false; }

ServerHooks DevServerFleet::make_hooks() {
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
  hooks.run_cgroups = &run_cgroups_;
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
  return hooks;
}

void DevServerFleet::follow_monitor() {
  auto* monitor = context_.monitor;
  if (!monitor || servers_.empty()) return;
  auto follow = [this, monitor](monitor::Level level) {
    for (auto& server : servers_) server->set_probe_interval(probe_interval_for(*monitor, level));
  };
  follow(monitor->level());
  monitor->on_level_change([follow, alive = std::weak_ptr<bool>(alive_)](const monitor::LevelChange& change) {
    if (!alive.expired()) follow(change.to);
  });
}

nlohmann::json DevServerFleet::enforcement() const {
  for (const auto& server : servers_)
    if (!server->enforcement().empty()) return server->enforcement();
  return nlohmann::json::object();
}

void DevServerFleet::start() {
  started_ = true;
  for (auto& server : servers_) server->start();
}

std::optional<int> DevServerFleet::start_and_wait() {
  if (servers_.empty()) return std::nullopt;
  std::vector<std::string> names;
  for (auto& server : servers_) names.push_back(server->name());
  context_.console.info(fmt::format("starting server{} {}; the command starts once {} healthy",
                                    names.size() > 1 ? "s" : "", fmt::join(names, ", "),
                                    names.size() > 1 ? "they are" : "it is"));
  context_.log.info("servers", "servers.starting", "starting servers", {{"servers", names}});
  start();
  int signal_number = 0;
  switch (run_until_ready(signal_number)) {
    case Readiness::ready:
      context_.log.info("servers", "servers.ready", "every server is healthy", {{"servers", names}});
      return std::nullopt;
    case Readiness::failed: {
      auto* server = given_up();
      context_.console.error(fmt::format("{}\nThe command was not started.",
                                         server ? server->failure_message() : std::string("the servers could not start")));
      context_.report.stop_reason = server ? fmt::format("server '{}' never became healthy", server->name())
                                           : std::string("servers failed");
      return stop_before_command(process::exit_code::guardian_failed, "server_failed");
    }
    case Readiness::interrupted:
      context_.console.info(fmt::format("{} while the servers were starting: stopping them; the command was not started",
                                        process::signal_name(signal_number)));
      context_.report.stop_reason = "signal " + process::signal_name(signal_number);
      return stop_before_command(process::exit_code::signal_base + signal_number, "interrupted");
  }
  return std::nullopt;
}

int DevServerFleet::stop_before_command(int code, const std::string& outcome) {
  stop();
  finish();
  context_.report.outcome = outcome;
  return code;
}

void DevServerFleet::exclude_from(process::TreeMembership& membership) const {
  for (pid_t pid : root_pids()) membership.exclude_subtree(pid);
}

void DevServerFleet::watch_main_tree(limits::Limiter& main_limiter) {
  main_membership_ = main_limiter.membership();
}

std::vector<limits::TreeUsage> DevServerFleet::usage() {
  std::vector<limits::TreeUsage> out;
  for (auto& server : servers_)
    if (auto usage = server->usage()) out.push_back(*usage);
  return out;
}

void DevServerFleet::relay(int signo) const {
  for (const auto& server : servers_) server->relay(signo);
}

std::optional<int> DevServerFleet::last_exit_code() const {
  for (const auto& server : servers_)
    if (auto code = server->last_exit_code()) return code;
  return std::nullopt;
}

void DevServerFleet::finish() {
  if (finished_) return;
  finished_ = true;
  run_until_settled();
  if (!servers_.empty()) context_.report.sections["servers"] = report();
}

// Servers report after every step; the fleet looks at them once that step is over.
void DevServerFleet::changed() {
  if (evaluation_posted_) return;
  evaluation_posted_ = true;
  boost::asio::post(context_.io, [this, alive = std::weak_ptr<bool>(alive_)] {
    if (alive.expired()) return;
    evaluation_posted_ = false;
    evaluate();
  });
}

void DevServerFleet::evaluate() {
  for (std::size_t i = 0; i < servers_.size(); ++i) {
    if (servers_[i]->has_given_up() && !gave_up_reported_[i]) {
      gave_up_reported_[i] = true;
      if (on_gave_up_) on_gave_up_(*servers_[i]);
    }
  }
  if (started_ && !settled_reported_ && all_settled()) {
    settled_reported_ = true;
    if (on_all_settled_) on_all_settled_();
  }
}

DevServerFleet::Readiness DevServerFleet::run_until_ready(int& signal_number) {
  boost::asio::signal_set signals(context_.io, SIGINT, SIGTERM, SIGHUP);
  int received = 0;
  signals.async_wait([&received](const boost::system::error_code& error, int signo) {
    if (!error) received = signo;
  });
  Readiness outcome = Readiness::failed;
  while (true) {
    if (received) {
      signal_number = received;
      outcome = Readiness::interrupted;
      break;
    }
    if (given_up()) break;
    bool all_healthy = true;
    for (const auto& server : servers_) all_healthy = all_healthy && server->is_healthy();
    if (all_healthy) {
      outcome = Readiness::ready;
      break;
    }
    if (context_.io.run_one() == 0) break;  // nothing left to wait for: cannot become ready
  }
  boost::system::error_code ignored;
  signals.cancel(ignored);
  // Let the cancelled wait complete now, while `received` still exists.
  context_.io.poll();
  return outcome;
}

void DevServerFleet::stop() {
  stop_requested_ = true;
  for (auto& server : servers_) server->stop();
}

void DevServerFleet::kill_now() {
  for (auto& server : servers_) server->kill_now();
}

void DevServerFleet::run_until_settled() {
  if (all_settled()) return;
  if (!stop_requested_) stop();
  context_.io.restart();
  boost::asio::signal_set signals(context_.io, SIGINT, SIGTERM, SIGHUP);
  signals.async_wait([this](const boost::system::error_code& error, int) {
    if (!error) kill_now();  // a second Ctrl-C while servers stop: no more waiting
  });
  while (!all_settled() && context_.io.run_one() > 0) {
  }
  boost::system::error_code ignored;
  signals.cancel(ignored);
  context_.io.poll();
}

bool DevServerFleet::all_settled() const {
  for (const auto& server : servers_)
    if (!server->is_settled()) return false;
  return true;
}

std::vector<pid_t> DevServerFleet::root_pids() const {
  std::vector<pid_t> pids;
  for (const auto& server : servers_)
    if (auto pid = server->root_pid()) pids.push_back(*pid);
  return pids;
}

const ServerSupervisor* DevServerFleet::given_up() const {
  for (const auto& server : servers_)
    if (server->has_given_up()) return server.get();
  return nullptr;
}

nlohmann::json DevServerFleet::report() const {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& server : servers_) out[server->name()] = server->report();
  return out;
}

}  // namespace guardian::servers
