// PluginWorker: one plugin instance on its own thread, fed through a bounded
// drop-oldest queue, so a slow, blocking or crashing-by-exception plugin never
// stalls the supervisor or the other plugins.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "guardian/plugin.h"

namespace guardian::plugins {

// Host services shared by every worker; outlives workers that had to be abandoned.
struct HostServices {
  using LogSink = std::function<void(const std::string& plugin, int level, const std::string& message)>;
  using QueryHandler = std::function<nlohmann::json(const nlohmann::json& what)>;
  // Told before and after every call into a plugin (create, on_event, destroy; seq is the
  // event's sequence number, 0 for the others): the plugin host process announces each call
  // to the supervisor, so a crash can be pinned on the plugin that was running.
  using CallObserver = std::function<void(const std::string& plugin, std::uint64_t seq, bool starting)>;

  void set_log_sink(LogSink sink);
  void set_call_observer(CallObserver observer);
  void call_starting(const std::string& plugin, std::uint64_t seq) const;
  void call_ended(const std::string& plugin, std::uint64_t seq) const;
  void set_query_handler(QueryHandler handler);
  void log(const std::string& plugin, int level, const std::string& message) const;
  nlohmann::json query(const nlohmann::json& what) const;
  // Drops the sink and the handler: a plugin abandoned at shutdown that wakes up later
  // must not call into a host (or test fixture) that no longer exists.
  void detach();

 private:
  mutable std::mutex mutex_;
  LogSink log_;
  QueryHandler query_;
  CallObserver calls_;  // set once before plugins start; read without the mutex
};

struct WorkerStats {
  std::uint64_t queued = 0;     // waiting now
  std::uint64_t delivered = 0;  // on_event calls that returned OK
  std::uint64_t errors = 0;     // on_event calls that returned an error
  std::uint64_t exceptions = 0; // C++ exceptions that crossed the C ABI (plugin bug)
  std::uint64_t dropped = 0;    // oldest events discarded because the queue was full
  std::uint64_t calls = 0;
  std::uint64_t total_call_ns = 0;
  std::uint64_t max_call_ns = 0;
  std::optional<std::chrono::nanoseconds> busy_for;  // the current call, if one is running
  nlohmann::json to_json() const;
};

class PluginWorker {
 public:
  PluginWorker(std::string name, const guardian_plugin* api, std::size_t queue_capacity,
               std::shared_ptr<HostServices> services);
  ~PluginWorker();
  PluginWorker(const PluginWorker&) = delete;
  PluginWorker& operator=(const PluginWorker&) = delete;

  // Starts the thread and runs create(config) on it. Returns an empty string on
  // success, else why it failed. A create that does not return within timeout is
  // abandoned (its thread is left behind and destroys the instance if it ever returns).
  std::string start(const std::string& config_json, std::chrono::milliseconds timeout);

  // Never blocks beyond a short mutex hold; drops the oldest event when full.
  // Returns false when an event had to be dropped. seq is passed on to the call observer.
  bool enqueue(std::shared_ptr<const std::string> event, std::uint64_t seq = 0);

  // Stops accepting events, lets the worker drain its queue and destroy the instance,
  // and waits until deadline. Returns false if the worker did not finish in time (it is
  // then detached: the plugin is stuck, and the process may exit under it).
  bool stop(std::chrono::steady_clock::time_point deadline);
  void request_stop();  // the first half of stop(), to stop several workers in parallel

  const std::string& name() const;
  WorkerStats stats() const;

  // For the stuck-plugin watchdog: the current call's duration, reported once per call.
  // Returns the duration when the current call exceeds limit and was not reported yet.
  std::optional<std::chrono::nanoseconds> newly_stuck(std::chrono::nanoseconds limit);

  struct State;  // shared with the thread, which may outlive this object when abandoned

 private:
  std::shared_ptr<State> state_;
  std::thread thread_;
};

}  // namespace guardian::plugins
