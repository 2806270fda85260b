#pragma once
// What every component of a run is given: the event loop, the configuration, the log,
// the console, the alert bus and the report it may add a section to. Components keep
// a reference; the Supervisor owns all of it for the length of the run.
#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <functional>
#include <string>

#include "guardian/alerts/alert_bus.hpp"
#include "guardian/config/config.hpp"
#include "guardian/report/console.hpp"
#include "guardian/report/event_log.hpp"
#include "guardian/report/run_report.hpp"
#include "guardian/context/run_options.hpp"

namespace guardian::monitor {
class Monitor;  // guardian/monitor/monitor.hpp
}

namespace guardian::context {

struct RunContext {
  boost::asio::io_context& io;
  const config::Config& config;
  const RunOptions& options;
  report::EventLog& log;
  const report::Console& console;
  alerts::AlertBus& alerts;
  report::RunReport& report;
  std::string run_id;
  std::filesystem::path run_dir;
  std::string marker_entry;  // "GUARDIAN_RUN_ID=<id>": every process of the run inherits it
  // The run's progressive monitor (level, level-change subscriptions, conditions, heavy
  // phases, snapshots); set before any server or the command starts, null in tests that
  // build a context without one.
  monitor::Monitor* monitor = nullptr;
  // The test running now ({"nodeid", "pid", ...} or null), from the test-runner adapter
  // (adapters/pytest); empty when no adapter is attached.
  std::function<nlohmann::json()> running_test = nullptr;
  // Observations for the plugins that are not log lines (kind "server": a server's state,
  // restarts and its last health probe after each step; kind "tests": {"tests": the test
  // adapter's live section}, coalesced); set by RunPlugins, empty when no plugins run. Call
  // on the run's thread.
  std::function<void(const std::string& kind, const nlohmann::json& payload)> observe = nullptr;
  // A limits backend that fell back or enforces less than asked (make_limiter's `warn`):
  // said once per run, however many commands and servers ask for a limiter.
  std::function<void(const std::string& event, const std::string& message)> limits_fallback = nullptr;
};

}  // namespace guardian::context
