// PluginRunner: discovers, validates and runs guardian plugins in this process, and fans
// events out to them without ever blocking the caller. guardian runs it inside the plugin
// host process (plugin_host_process.cpp); the supervisor talks to that process through
// PluginHost (plugin_host.hpp). Tests and benchmarks use it directly.
//
// Typical use:
//   PluginRunner host(options);
//   host.set_query_handler([&](const json& what) { return supervisor.query(what); });
//   for (auto& r : host.load(config["plugins"])) if (!r.ok()) warn(r.describe());
//   bus.subscribe([&](const json& event) { host.publish(event); });
//   ...
//   host.shutdown(std::chrono::milliseconds(2000));
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "guardian/plugins/plugin_library.hpp"
#include "guardian/plugins/plugin_worker.hpp"

namespace guardian::plugins {

struct PluginRunnerOptions {
  SearchOptions search;
  std::size_t queue_capacity = 1024;              // per plugin; overflow drops the oldest
  std::chrono::milliseconds create_timeout{5000};  // a create() slower than this disables the plugin
  std::chrono::milliseconds stuck_after{5000};     // a call longer than this is reported (once)
  // Plugins loaded even without a [plugins.<name>] table (a table with enabled = false
  // still disables them). Empty: only plugins with a table are loaded.
  std::set<std::string> enabled_by_default;
  // Open only the files named <plugin>.so for plugins that will be loaded (a table without
  // enabled = false, or enabled by default). A run needs no others, and opening one means
  // loading its libraries (libnotify pulls in GLib and GdkPixbuf: milliseconds per run).
  // Off: every plugin found is opened and reported, as `guardian plugins` shows them.
  bool open_only_wanted = false;
  // Receives plugin log lines and the host's own warnings (plugin = the plugin's name).
  // Default: "guardian: plugin <name>: <message>" on stderr.
  HostServices::LogSink log;
};

struct PluginLoadResult {
  enum class Status { loaded, disabled, refused, failed };
  std::string name;
  std::filesystem::path path;
  std::string version;
  std::uint32_t abi_major = 0;
  Status status = Status::failed;
  std::string message;  // refused/failed: why, and what to do next
  bool bad_config = false;  // failed because its [plugins.<name>] table is wrong (a usage error)

  bool ok() const { return status == Status::loaded || status == Status::disabled; }
  std::string describe() const;  // one line for stderr / the event log
  nlohmann::json to_json() const;
};

std::string_view to_string(PluginLoadResult::Status status);

// The default log sink: "guardian: plugin <name>: <level>: <message>" on stderr.
void log_to_stderr(const std::string& plugin, int level, const std::string& message);

// The event envelope every plugin receives: {"kind", "ts" (ISO 8601 UTC, ms), "run_id",
// ...payload's members}. Kinds in use: "alert" (AlertBus makes those), "level_changed",
// "report", "run_started", "run_finished", and observations: "server", "tests". Payload must
// be an object.
nlohmann::json make_event(std::string_view kind, const std::string& run_id,
                          nlohmann::json payload = nlohmann::json::object(),
                          std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

class PluginRunner {
 public:
  using QueryHandler = HostServices::QueryHandler;

  explicit PluginRunner(PluginRunnerOptions options = {});
  ~PluginRunner();  // shutdown() with a 2 s drain if not done
  PluginRunner(const PluginRunner&) = delete;
  PluginRunner& operator=(const PluginRunner&) = delete;

  // Answers plugins' query() calls ({"what": "status"|"snapshots"|"alerts"|...}); may be
  // set or replaced at any time. Called on plugin threads: it must be thread-safe.
  void set_query_handler(QueryHandler handler);

  // plugins_config: {"<name>": {"enabled": bool, "path": "/x.so" (optional), ...plugin keys}}.
  // Discovers plugins, validates each table against the plugin's schema, creates the
  // enabled ones on their worker threads. One result per discovered or configured plugin.
  // Call once.
  std::vector<PluginLoadResult> load(const nlohmann::json& plugins_config);

  // load() in two steps: prepare() discovers and validates (refused, disabled and
  // badly configured plugins get their final result; the valid ones come back as `loaded`
  // and wait), start_prepared() creates the waiting ones and returns their results.
  std::vector<PluginLoadResult> prepare(const nlohmann::json& plugins_config);
  std::vector<PluginLoadResult> start_prepared();

  // Hands the event to every loaded plugin's queue. Never blocks (a short mutex per
  // plugin); a full queue drops its oldest event. Serializes once.
  void publish(const nlohmann::json& event);
  // The same for an event already serialized; seq reaches the call observer.
  void publish_text(std::shared_ptr<const std::string> event, std::uint64_t seq = 0);
  // To one plugin only (a replay after the plugin host restarted). False if it is not running.
  bool publish_to(const std::string& plugin, std::shared_ptr<const std::string> event, std::uint64_t seq);

  // Told before and after every call into a plugin; set before load().
  void set_call_observer(HostServices::CallObserver observer);

  // Names of running plugins.
  std::vector<std::string> loaded_plugins() const;

  // {"<name>": {queued, delivered, errors, exceptions, dropped, calls, mean_call_us, max_call_us, busy_ms}}
  nlohmann::json stats() const;

  // Stops accepting events, lets every plugin drain and destroy within drain_timeout
  // (all plugins in parallel). Returns the names of plugins that did not finish in time
  // (they are abandoned and reported). Idempotent.
  std::vector<std::string> shutdown(std::chrono::milliseconds drain_timeout = std::chrono::milliseconds(2000));

 private:
  void watchdog_loop();
  void log(const std::string& plugin, int level, const std::string& message) const;

  PluginRunnerOptions options_;
  std::shared_ptr<HostServices> services_;
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<PluginWorker>> workers_;
  bool shut_down_ = false;

  struct Prepared {
    PluginInfo info;
    std::string config_json;  // validated, defaults filled in
  };
  std::vector<Prepared> prepared_;

  std::mutex watchdog_mutex_;
  std::condition_variable watchdog_cv_;
  bool watchdog_stop_ = false;
  std::thread watchdog_;
};

}  // namespace guardian::plugins
