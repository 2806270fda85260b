#pragma once
// The dev servers of one run (or of `guardian serve`): started together, waited for until
// all are healthy, watched while the command runs, stopped together at the end, and
// reported in the "servers" section.
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <vector>

#include "guardian/context/run_context.hpp"
#include "guardian/servers/server_spec.hpp"
#include "guardian/servers/server_supervisor.hpp"

namespace guardian::servers {

class ServerFleet {
 public:
  enum class Readiness { ready, failed, interrupted };

  ServerFleet(context::RunContext& context, std::vector<ServerSpec> specs, ServerHooks hooks);
  ~ServerFleet();

  bool empty() const { return servers_.empty(); }
  const std::vector<std::unique_ptr<ServerSupervisor>>& servers() const { return servers_; }

  void start();
  /// Drives the loop until every server is healthy (ready), one gives up (failed) or a stop
  /// signal arrives (interrupted; `signal_number` says which).
  Readiness run_until_ready(int& signal_number);
  /// Runs once, on the loop, for each server that gives up after start().
  void on_gave_up(std::function<void(ServerSupervisor&)> callback) { on_gave_up_ = std::move(callback); }
  /// Runs when every server has settled (stopped, exited by policy or given up).
  void on_all_settled(std::function<void()> callback) { on_all_settled_ = std::move(callback); }
  /// Stops every server for good (gracefully; SIGKILL after the stop grace).
  void stop();
  void kill_now();
  bool stopping() const { return stop_requested_; }
  /// After the run's loop has ended: drives it until every server has settled (a stop
  /// signal meanwhile kills them at once).
  void run_until_settled();
  bool all_settled() const;

  /// Root processes of the servers right now (the main command's tree must leave them out).
  std::vector<pid_t> root_pids() const;
  /// The monitor level's interval (servers with a pinned probe_interval keep theirs).
  void set_probe_interval(std::chrono::milliseconds interval);
  /// The first server that gave up, if any.
  const ServerSupervisor* given_up() const;
  /// {"NAME": {state, restarts, last probe latency, startup times, …}}
  nlohmann::json report() const;

 private:
  void changed();
  void evaluate();

  context::RunContext& context_;
  std::vector<std::unique_ptr<ServerSupervisor>> servers_;
  std::vector<bool> gave_up_reported_;
  std::function<void(ServerSupervisor&)> on_gave_up_;
  std::function<void()> on_all_settled_;
  bool started_ = false;
  bool stop_requested_ = false;
  bool settled_reported_ = false;
  bool evaluation_posted_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace guardian::servers
