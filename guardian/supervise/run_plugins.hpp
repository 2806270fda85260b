#pragma once
// A run's plugins: loads them from the configuration, hands them every alert (through the
// AlertBus), level changes and status reports (from the event log) and the run's start and
// end; answers their queries (status, snapshots, alert history) from thread-safe sources.
// Delivery never blocks the event loop: PluginHost queues per plugin.
#include <memory>
#include <string>

#include "guardian/plugins/plugin_host.hpp"
#include "guardian/supervise/run_context.hpp"

namespace guardian::supervise {

class RunPlugins {
 public:
  explicit RunPlugins(RunContext& run);
  ~RunPlugins();

  /// Loads the enabled plugins; refused or failed ones are reported (stderr and log).
  void start();
  void publish_run_started(const nlohmann::json& payload);
  /// The last event, then a bounded drain.
  void finish(const nlohmann::json& report);

  /// Plugins enabled when the config does not say: jsonfile always, notify on a desktop session.
  static nlohmann::json effective_config(const config::Config& config);

 private:
  nlohmann::json answer_query(const nlohmann::json& what) const;

  RunContext& run_;
  std::unique_ptr<plugins::PluginHost> host_;
  bool finished_ = false;
};

}  // namespace guardian::supervise
