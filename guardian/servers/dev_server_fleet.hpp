#pragma once
// The dev servers of one session (`guardian run --server …` or `guardian serve`): started
// together, watched while the session runs, stopped together at the end, and reported in
// the "servers" section. Under `run` they are first waited for until healthy (the command
// starts only then) and kept out of the command's tree. Their probes follow the monitor's
// level, and a server down or failing raises a condition for it.
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "guardian/context/run_context.hpp"
#include "guardian/limits/limiter.hpp"
#include "guardian/process/orphan_reaper.hpp"
#include "guardian/process/sentinel.hpp"
#include "guardian/process/tree_membership.hpp"
#include "guardian/servers/server_spec.hpp"
#include "guardian/servers/server_supervisor.hpp"

namespace guardian::servers {

class DevServerFleet {
 public:
  /// beside_command (`run`): each server gets one attempt per startup timeout before the
  /// command starts, so a server that cannot come up ends the run instead of keeping a CI
  /// job waiting; alone (`serve`): its restart policy from the first attempt.
  enum class Role { beside_command, alone };
  /// `reaper`, `sentinel` and `run_cgroups` are the session's: a server's root is a child
  /// guardian waits for itself, its group is one the sentinel kills if guardian dies, and its
  /// cgroup is a leaf of the run's cgroups (shared with the command).
  DevServerFleet(context::RunContext& context, std::vector<ServerSpec> specs, Role role,
                 process::OrphanReaper& reaper, process::Sentinel& sentinel, limits::RunCgroups& run_cgroups);
  ~DevServerFleet();

  bool empty() const { return servers_.empty(); }
  const std::vector<std::unique_ptr<ServerSupervisor>>& servers() const { return servers_; }

  /// Starts every server (`guardian serve`: each restarts by its policy from then on).
  void start();
  /// `guardian run`: starts the servers and drives the loop until all are healthy. Empty:
  /// ready (or no servers). Otherwise guardian's exit code — 125 when one never became
  /// healthy, 128+N when interrupted by signal N — with the servers already stopped, the
  /// message printed and the report filled in.
  std::optional<int> start_and_wait();
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

  /// Sends `signo` to every running server's process group (SIGQUIT, SIGUSR1, SIGUSR2).
  void relay(int signo) const;

  /// Root processes of the servers right now (the main command's tree must leave them out).
  std::vector<pid_t> root_pids() const;
  /// Leaves the servers' trees out of the main command's.
  void exclude_from(process::TreeMembership& membership) const;
  /// Keeps leaving them out as they restart, when the main command's tree is found through
  /// /proc (the cgroup v2 backend gives each its own cgroup and needs nothing).
  void watch_main_tree(limits::Limiter& main_limiter);
  /// What the servers' trees use now, summed (for the monitor's view of the whole run).
  std::vector<limits::TreeUsage> usage();
  /// The first server that gave up, if any.
  const ServerSupervisor* given_up() const;
  /// The shell-style code of the first server that exited, if any did.
  std::optional<int> last_exit_code() const;
  /// {"NAME": {state, restarts, last probe latency, startup times, …}}
  nlohmann::json report() const;
  /// The limits backend the servers run under and what it enforces (the run report's and
  /// the status query's "enforcement" under `serve`): the first launched server's limiter
  /// report. Every server's limiter comes from the same make_limiter decision, so the first
  /// speaks for all. Empty before any server was launched.
  nlohmann::json enforcement() const;
  /// After the session's loop: waits until the servers are stopped and adds the "servers"
  /// report section (once).
  void finish();

 private:
  enum class Readiness { ready, failed, interrupted };
  /// Drives the loop until every server is healthy (ready), one gives up (failed) or a stop
  /// signal arrives (interrupted; `signal_number` says which).
  Readiness run_until_ready(int& signal_number);
  int stop_before_command(int code, const std::string& outcome);
  ServerHooks make_hooks();
  void follow_monitor();
  void changed();
  void evaluate();

  context::RunContext& context_;
  process::OrphanReaper& reaper_;
  process::Sentinel& sentinel_;
  limits::RunCgroups& run_cgroups_;
  process::TreeMembership* main_membership_ = nullptr;
  bool finished_ = false;
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
