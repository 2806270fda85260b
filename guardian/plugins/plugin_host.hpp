// PluginHost: the supervisor's side of the plugin host process. Plugins never run in the
// supervisor: load() starts `guardian __plugin-host` (plugin_host_process.hpp), which drops to
// the run's user, dlopens the plugins and runs them; events, call announcements, log lines
// and queries travel over one socketpair (plugin_channel.hpp). A host that dies (a plugin's
// segfault, abort, its memory limit) is a line and a PLUGIN_CRASHED alert, not the end of the
// run: the plugin that was running is named and left out, the host is started again (once).
//
// Typical use by the session:
//   PluginHost host(options);
//   host.set_query_handler([&](const json& what) { return supervisor.query(what); });
//   for (auto& r : host.load(config["plugins"])) if (!r.ok()) warn(r.describe());
//   bus.subscribe([&](const json& event) { host.publish(event); });
//   ...
//   host.shutdown(std::chrono::milliseconds(2000));
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "guardian/plugins/plugin_channel.hpp"
#include "guardian/plugins/plugin_host_user.hpp"
#include "guardian/plugins/plugin_runner.hpp"
#include "guardian/process/unique_fd.hpp"

namespace guardian::plugins {

// The plugin host process died under a plugin.
struct PluginCrash {
  std::string plugin;        // the plugin whose call was running; empty when none was
  int signal = 0;            // the host's fatal signal, 0 when it exited
  int exit_code = 0;         // when it exited
  bool plugins_disabled = false;  // the host's second crash: no plugins for the rest of the run
  bool during_shutdown = false;   // while the plugins drained at the run's end
  std::string describe() const;   // one line for stderr, the event log and the alert
};

struct PluginHostOptions : PluginRunnerOptions {
  std::filesystem::path program;  // guardian's executable; empty: /proc/self/exe
  // The host's own address-space limit (RLIMIT_AS): a plugin allocating without bound
  // kills the host, not the machine. 0: none. Threads reserve 64 MiB malloc arenas and
  // 8 MiB stacks of address space, so this is far above what the plugins touch.
  std::uint64_t memory_limit_bytes = std::uint64_t{2} << 30;
  std::optional<RunAs> run_as;  // empty: run_as_from_environment() (see plugin_host_user())
  std::chrono::milliseconds start_timeout{10000};  // start, discover and validate
  std::chrono::milliseconds query_timeout{2000};   // a plugin's query() waits at most this
  std::size_t channel_capacity = 4096;  // events waiting for the socket; overflow drops the oldest
  std::size_t replay_capacity = 1024;   // recent events re-sent to the plugins a restarted host runs
  // Told on the channel thread when the host died under the plugins (after it was restarted).
  std::function<void(const PluginCrash&)> on_crash;
};

class PluginHost {
 public:
  using QueryHandler = HostServices::QueryHandler;

  explicit PluginHost(PluginHostOptions options = {});
  ~PluginHost();  // shutdown() with a 2 s drain if not done
  PluginHost(const PluginHost&) = delete;
  PluginHost& operator=(const PluginHost&) = delete;

  // Answers plugins' query() calls; called on the channel thread (never the event loop).
  void set_query_handler(QueryHandler handler);

  // Starts the host process, which discovers the plugins and validates each table against
  // its schema; returns one result per discovered or configured plugin once validation is
  // done. The valid plugins' create() runs afterwards in the host, in parallel with the
  // caller (a create that fails is logged). Call once.
  std::vector<PluginLoadResult> load(const nlohmann::json& plugins_config);
  // The first half of load(): starts the host and hands it the configuration without
  // waiting, so it opens the plugins while the caller sets up the rest of the run; the
  // load() that follows (with the same configuration) only waits. Starts no thread.
  void launch(const nlohmann::json& plugins_config);

  // Queues the event for the host. Never blocks (a short mutex); a full queue drops its oldest.
  void publish(const nlohmann::json& event);

  // Plugins the host runs now.
  std::vector<std::string> loaded_plugins() const;
  // The plugins' counters as the host last reported them (at shutdown).
  nlohmann::json stats() const;
  // [{name, state: running|crashed|failed|stopped, signal?}] for report.json.
  nlohmann::json report_section() const;
  // True for the pids of plugin host processes (now and before a restart): they are
  // guardian's own, never part of the supervised tree, never reaped by the orphan reaper.
  std::function<bool(pid_t)> host_pids() const;

  // Lets every plugin drain within drain_timeout and the host end. Returns the plugins
  // that did not finish in time. Idempotent.
  std::vector<std::string> shutdown(std::chrono::milliseconds drain_timeout = std::chrono::milliseconds(2000));

 private:
  struct Shared;  // what the channel thread and the callers share, under one mutex
  bool spawn(const nlohmann::json& plugins_config, std::string& error);
  void channel_loop();
  bool pump(bool& host_gone);
  void handle_line(const std::string& line);
  void host_ended();
  void log(const std::string& plugin, int level, const std::string& message) const;

  PluginHostOptions options_;
  std::shared_ptr<Shared> shared_;
  std::thread channel_;
};

}  // namespace guardian::plugins
