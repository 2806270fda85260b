#pragma once
// A run's plugins: loads them from the configuration, hands them every alert (through the
// AlertBus), level changes and status reports (from the event log) and the run's start and
// end; answers their queries (status, snapshots, alert history) from thread-safe sources.
// Delivery never blocks the event loop: PluginHost queues for the plugin host process, where
// the plugins run; a crash of that process is a line, an alert and a report entry.
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "guardian/plugins/plugin_host.hpp"
#include "guardian/context/run_context.hpp"
#include "guardian/process/tree_membership.hpp"

namespace guardian::session {

class RunPlugins {
 public:
  explicit RunPlugins(context::RunContext& run);
  ~RunPlugins();

  /// Starts the plugin host process with the configuration, without waiting: call first, so
  /// it opens the plugins while the run sets up. Starts no thread.
  void launch();
  /// Loads the enabled plugins; refused or failed ones are reported (stderr and log). A
  /// configured plugin whose table does not fit its schema throws config::ConfigError (exit 125).
  void start();
  /// The plugin host process is guardian's own: never a member of the supervised tree.
  void exclude_from(process::TreeMembership& membership) const;
  /// True for plugin host pids (the orphan reaper leaves them to PluginHost).
  std::function<bool(pid_t)> host_pids() const;
  void publish_run_started(const nlohmann::json& payload);
  /// The last event, then a bounded drain.
  void finish(const nlohmann::json& report);

  /// Plugins enabled when the config does not say: jsonfile always, notify on a desktop session.
  static nlohmann::json effective_config(const config::Config& config);
  /// Whom the plugin host runs as (plugins.user, else sudo's user; none unless root). Throws
  /// config::ConfigError for a user the system does not know: call before anything starts.
  static std::optional<plugins::RunAs> host_user(const config::Config& config);

 private:
  nlohmann::json answer_query(const nlohmann::json& what) const;
  void on_plugin_log(const std::string& plugin, int level, const std::string& message);
  void on_plugin_crash(const plugins::PluginCrash& crash);
  /// Keeps what the status query reports from log lines and observations (any thread).
  void note(const nlohmann::json& line);
  void observe(const std::string& kind, const nlohmann::json& payload);
  /// Critical alerts resolved without an alert of their own (AlertBus::resolve, e.g. a
  /// threshold back to normal) reach plugins as "alert_resolved" events: checked on the run's
  /// thread after the step that may have resolved them.
  void post_resolution_check();
  void check_resolutions();

  context::RunContext& run_;
  std::unique_ptr<plugins::PluginHost> host_;
  bool finished_ = false;

  mutable std::mutex state_mutex_;  // guards the six below (plugin threads read them)
  std::string run_state_ = "starting";
  nlohmann::json enforcement_;                      // from the run.started log line
  nlohmann::json servers_ = nlohmann::json::object();  // last "server" observation by name
  nlohmann::json tests_;  // last "tests" observation (the test adapter's live section), null before
  nlohmann::json protector_actions_ = nlohmann::json::object();  // "reniced": n, … from the log
  std::map<std::string, nlohmann::json> active_alerts_;  // dedup key -> alert, as last seen
  std::atomic<bool> resolution_check_posted_{false};
  std::mutex told_mutex_;
  std::set<std::string> told_on_stderr_;  // plugins whose first problem went to stderr
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace guardian::session
