#pragma once
// A run's plugins: loads them from the configuration, hands them every alert (through the
// AlertBus), level changes and status reports (from the event log) and the run's start and
// end; answers their queries (status, snapshots, alert history) from thread-safe sources.
// Delivery never blocks the event loop: PluginHost queues for the plugin host process, where
// the plugins run; a crash of that process is a line, an alert and a report entry.
//
// When the configuration has no [plugins.*] table, the only plugins are the ones guardian
// enables itself (jsonfile, notify on a desktop), and they act on alerts only: the host is
// then started at the run's first alert, not at its start (issue 17: spawning it cost every
// run a second start of guardian and a dlopen, for runs that raise nothing).
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "guardian/plugins/plugin_host.hpp"
#include "guardian/context/run_context.hpp"
#include "guardian/process/tree_membership.hpp"

namespace guardian::session {

class RunPlugins {
 public:
  explicit RunPlugins(context::RunContext& run);
  ~RunPlugins();

  /// Starts the plugin host process with the configuration, without waiting: call first, so
  /// it opens the plugins while the run sets up. Starts no thread. Does nothing when the
  /// host waits for the first alert.
  void launch();
  /// Loads the enabled plugins; refused or failed ones are reported (stderr and log). A
  /// configured plugin whose table does not fit its schema throws config::ConfigError (exit 125).
  void start();
  /// The plugin host process is guardian's own: never a member of the supervised tree.
  void exclude_from(process::TreeMembership& membership) const;
  /// True for plugin host pids (the orphan reaper leaves them to PluginHost).
  std::function<bool(pid_t)> host_pids() const;
  void publish_run_started(const nlohmann::json& payload);
  /// The last event, then a bounded drain. A host still waiting for an alert that was
  /// raised after the event loop ended is started here, so the alert reaches the plugins.
  void finish(const nlohmann::json& report);

  /// Plugins enabled when the config does not say: jsonfile always, notify on a desktop session.
  static nlohmann::json effective_config(const config::Config& config);
  /// Whom the plugin host runs as (plugins.user, else sudo's user; none unless root). Throws
  /// config::ConfigError for a user the system does not know: call before anything starts.
  static std::optional<plugins::RunAs> host_user(const config::Config& config);
  /// True when no plugin is configured: the default plugins act on alerts only.
  static bool waits_for_first_alert(const config::Config& config);

 private:
  /// Creates host_ and starts its process (no wait).
  void make_host();
  /// Starts the host and waits for its validation; logs each plugin's load result.
  void open_host();
  /// Subscribes to what plugins receive: alerts, log lines, observations.
  void listen();
  /// Keeps the alert while the host waits for the first one (true: kept, the host's start posted).
  bool hold(const nlohmann::json& alert);
  /// Logs each plugin's load result; a configured plugin's bad table is a usage error.
  void report_load_results(const std::vector<plugins::PluginLoadResult>& results);
  /// On the run's thread: the first alert came; the host starts, loader_ waits for its plugins.
  void start_deferred_host();
  /// On the run's thread once loader_ is done: the held events follow.
  void install_deferred_host();
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
  const bool deferred_;  // waits_for_first_alert(): host_ is created at the first alert
  // Who the plugin host processes are, for the reaper and the tree: set when host_ is made.
  std::shared_ptr<std::function<bool(pid_t)>> host_pids_ =
      std::make_shared<std::function<bool(pid_t)>>([](pid_t) { return false; });

  mutable std::mutex state_mutex_;  // guards the six below (plugin threads read them)
  std::string run_state_ = "starting";
  nlohmann::json enforcement_;                      // from the run.started log line
  nlohmann::json servers_ = nlohmann::json::object();  // last "server" observation by name
  nlohmann::json tests_;  // last "tests" observation (the test adapter's live section), null before
  nlohmann::json protector_actions_ = nlohmann::json::object();  // "reniced": n, … from the log
  std::map<std::string, nlohmann::json> active_alerts_;  // dedup key -> alert, as last seen
  std::atomic<bool> resolution_check_posted_{false};
  // Deferred host: run_started and the alerts raised before it runs (the first one posts
  // its start), under held_mutex_ (alerts may be raised on any thread).
  std::mutex held_mutex_;
  bool holding_;  // deferred_ until the host has started
  std::optional<nlohmann::json> held_run_started_;
  std::vector<nlohmann::json> held_alerts_;
  std::vector<plugins::PluginLoadResult> load_results_;  // loader_'s, for the run's thread
  std::thread loader_;  // waits for a deferred host's plugins off the run's thread
  std::mutex told_mutex_;
  std::set<std::string> told_on_stderr_;  // plugins whose first problem went to stderr
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace guardian::session
