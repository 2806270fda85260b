#pragma once
// The dev servers of a `guardian run`, as the RunSession sees them: started before the
// command and waited for until healthy, left out of the command's tree, stopped after it,
// and the reason for exit 125 if one gives up. Keeps the wiring in supervisor.cpp to a
// few lines.
#include <functional>
#include <memory>
#include <optional>

#include "guardian/limits/limiter.hpp"
#include "guardian/process/orphan_reaper.hpp"
#include "guardian/process/sentinel.hpp"
#include "guardian/process/tree_membership.hpp"
#include "guardian/context/run_context.hpp"
#include "guardian/servers/server_fleet.hpp"

namespace guardian::servers {

class RunServers {
 public:
  RunServers(context::RunContext& context, process::OrphanReaper& reaper, process::Sentinel& sentinel);

  bool empty() const { return !fleet_ || fleet_->empty(); }
  /// Starts the configured servers and drives the loop until all are healthy. Empty: ready
  /// (or no servers). Otherwise guardian's exit code — 125 when one never became healthy,
  /// 128+N when interrupted by signal N — with the servers already stopped, the message
  /// printed and the report filled in.
  std::optional<int> start_and_wait();
  /// Leaves the servers' trees out of the main command's.
  void exclude_from(process::TreeMembership& membership) const;
  /// Keeps leaving them out as they restart, when the main command's tree is found through
  /// /proc (the cgroup v2 backend gives each its own cgroup and needs nothing).
  void watch_main_tree(limits::Limiter& main_limiter);
  /// `stop_command` runs once if a server gives up while the command runs.
  void on_fatal(std::function<void()> stop_command);
  /// The main command has ended: stop the servers.
  void command_ended();
  /// After the loop: waits until the servers are stopped and adds the "servers" report
  /// section. Returns 125 if a server gave up during the run.
  std::optional<int> finish();
  ServerFleet* fleet() { return fleet_ ? &*fleet_ : nullptr; }

 private:
  std::optional<int> stop_before_command(int code, const std::string& outcome);

  context::RunContext& context_;
  process::OrphanReaper& reaper_;
  process::Sentinel& sentinel_;
  std::optional<ServerFleet> fleet_;
  process::TreeMembership* main_membership_ = nullptr;
  bool failed_ = false;
  bool finished_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // level listeners outlive nothing
};

}  // namespace guardian::servers
