#pragma once
// One dev server under supervision: it launches each attempt as a SupervisedCommand (own
// process group, own limiter named after the server), probes its health on the loop,
// feeds the ServerLifecycle, and turns its decisions into stops, restarts, log events,
// console lines and SERVER_DOWN / SERVER_UP / SERVER_SLOW / SERVER_FLAPPING /
// SERVER_GAVE_UP alerts.
#include <sys/types.h>

#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "guardian/alerts/alert.hpp"
#include "guardian/health/probe.hpp"
#include "guardian/health/server_lifecycle.hpp"
#include "guardian/limits/run_cgroups.hpp"
#include "guardian/process/exit_status.hpp"
#include "guardian/context/run_context.hpp"
#include "guardian/servers/server_output.hpp"
#include "guardian/servers/server_spec.hpp"
#include "guardian/supervise/supervised_command.hpp"

namespace guardian::servers {

/// How the servers tell the rest of the run what they do.
struct ServerHooks {
  // A child guardian waits for itself (a server's root, an exec: probe): the orphan reaper
  // must leave it alone until release().
  std::function<void(pid_t)> adopt;
  std::function<void(pid_t)> release;
  /// A server's process group: the sentinel kills it if guardian dies without cleaning up.
  std::function<void(pid_t)> watch_group;
  /// A server's cgroup.kill file (cgroup v2 backend): the sentinel writes it if guardian dies.
  std::function<void(const std::string&)> watch_kill_file;
  /// A condition held until cleared (severity nullopt), for the monitor's level: key
  /// "server.NAME.down" (critical: down or given up) or "server.NAME.probe" (warning: a
  /// health check failed).
  std::function<void(const std::string& key, std::optional<alerts::Severity> severity, const std::string& reason)>
      condition;
  /// A one-off event worth attention (a slow answer or a slow start).
  std::function<void(alerts::Severity severity, const std::string& reason)> pulse;
  /// The test running right now ({"nodeid": …} from the test-runner adapter), or null.
  std::function<nlohmann::json()> running_test;
  /// The run's cgroups, shared with the command and the other servers (the session's).
  limits::RunCgroups* run_cgroups = nullptr;
};

// Its member functions live in three files: server_supervisor.cpp (launching, stopping,
// restarting, the report), server_probe_handling.cpp (health probes and what their answers
// lead to) and server_notices.cpp (the lifecycle's notices turned into lines and alerts).
class ServerSupervisor : private health::LifecycleObserver {
 public:
  using Milliseconds = std::chrono::milliseconds;

  ServerSupervisor(context::RunContext& context, ServerSpec spec, ServerHooks hooks, std::function<void()> changed);
  ~ServerSupervisor() override;
  ServerSupervisor(const ServerSupervisor&) = delete;
  ServerSupervisor& operator=(const ServerSupervisor&) = delete;

  void start();
  /// Stop for good (gracefully, then SIGKILL); `changed` fires once it has settled.
  void stop();
  /// SIGKILL the tree now (second Ctrl-C).
  void kill_now();
  /// The interval of the monitor's level; ignored when servers.NAME.probe_interval pins one.
  void set_probe_interval(Milliseconds interval);
  /// Sends `signo` to the running server's process group (a relayed SIGUSR1, …).
  void relay(int signo) const;
  /// What the server's tree uses now, through its limiter; empty while nothing runs.
  std::optional<limits::TreeUsage> usage();

  const ServerSpec& spec() const { return spec_; }
  const std::string& name() const { return spec_.name; }
  health::ServerState state() const { return lifecycle_.state(); }
  bool is_healthy() const { return lifecycle_.state() == health::ServerState::running; }
  /// No tree left and nothing more will happen (stopped, exited, fatal or never started).
  bool is_settled() const;
  bool has_given_up() const { return lifecycle_.state() == health::ServerState::fatal; }
  std::optional<pid_t> root_pid() const;
  Milliseconds probe_interval() const;
  std::vector<std::string> last_output(std::size_t lines) const { return output_.last_lines(lines); }
  /// The shell-style code of the last exit of its root process, if it ever exited.
  std::optional<int> last_exit_code() const {
    return last_exit_ ? std::optional<int>(last_exit_->shell_code()) : std::nullopt;
  }
  /// The exit-125 message: what happened, the last output lines, what to do.
  std::string failure_message() const;
  nlohmann::json report() const;
  /// Its limiter's report (the "enforcement" section: backend, ceilings, what was enforced):
  /// the running tree's, or the last one's once it has ended; empty before the first launch.
  const nlohmann::json& enforcement() const { return enforcement_; }

 private:
  // health::LifecycleObserver
  bool launch(const health::AttemptInfo& attempt) override;
  void stop_tree() override;
  void schedule_restart(Milliseconds delay) override;
  void cancel_restart() override;
  void schedule_stable_check(Milliseconds delay) override;
  void stable_again(const health::StableInfo& info) override;
  void healthy(const health::HealthyInfo& info) override;
  void start_failed(const health::StartFailureInfo& info) override;
  void probe_failing(unsigned consecutive, unsigned limit) override;
  void probe_recovered(unsigned failures) override;
  void slow_probe(health::ProbeClass probe_class, Milliseconds latency) override;
  void down(const health::DownInfo& info) override;
  void gave_up(const health::GiveUpInfo& info) override;
  void settled(health::ServerState state) override;

  void on_exit(const process::ExitStatus& status);
  void on_finished();
  void signal_stage(std::size_t index);
  std::vector<std::string> environment() const;
  void publish_state(const health::ProbeResult* probe) const;

  // Probes (server_probe_handling.cpp).
  Milliseconds startup_probe_interval() const;
  Milliseconds next_probe_interval() const;
  void on_output_line(const std::string& line);
  /// A probe answered (or not) while uvicorn --reload replaces its worker: true when the
  /// reload explains a failure (the lifecycle does not hear of it); a slow answer ends the
  /// reload and counts as ok.
  bool reload_explains(health::ProbeClass& probe_class);
  bool has_live_worker() const;
  void schedule_probe(Milliseconds delay);
  void run_probe();
  void on_probe_result(unsigned attempt_id, const health::ProbeResult& result);

  // Texts (server_notices.cpp).
  nlohmann::json alert_context(std::string_view reason) const;
  std::string output_tail(std::size_t lines, std::string_view indent) const;
  std::string test_phrase() const;
  void condition(std::string_view what, std::optional<alerts::Severity> severity, const std::string& reason = {});

  context::RunContext& context_;
  ServerSpec spec_;
  ServerHooks hooks_;
  std::function<void()> changed_;
  health::ServerLifecycle lifecycle_;
  ServerOutput output_;
  std::unique_ptr<health::Probe> probe_;
  nlohmann::json enforcement_ = nlohmann::json::object();
  std::optional<supervise::SupervisedCommand> command_;
  pid_t pid_ = -1;
  unsigned attempt_id_ = 0;
  bool stop_started_ = false;
  boost::asio::steady_timer probe_timer_;
  boost::asio::steady_timer startup_timer_;
  boost::asio::steady_timer restart_timer_;
  boost::asio::steady_timer stage_timer_;
  boost::asio::steady_timer stable_timer_;
  std::chrono::steady_clock::time_point probe_started_{};
  bool probe_in_flight_ = false;
  // The probes that count for the server's uptime: all but the failed ones before it was
  // first healthy (a server is not "down" before it was ever up); uptime % = ok / counted.
  std::uint64_t probes_counted_ = 0;
  std::uint64_t probes_ok_ = 0;
  std::optional<std::chrono::steady_clock::time_point> reload_started_;  // uvicorn --reload said "Reloading..."
  Milliseconds level_interval_{5000};
  std::optional<health::ProbeResult> last_probe_;
  std::optional<process::ExitStatus> last_exit_;
  std::optional<health::StartFailureInfo> last_start_failure_;
  std::optional<health::DownInfo> last_down_;
  bool down_alert_active_ = false;
  std::string marker_entry_;
};

}  // namespace guardian::servers
