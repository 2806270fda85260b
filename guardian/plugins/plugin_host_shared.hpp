#pragma once
// PluginHost::Shared: the state the supervisor's side of the plugin host shares between its
// callers (publish, queries, shutdown) and its channel thread, guarded by one mutex. Internal
// to plugin_host.cpp (launching, loading, shutdown) and plugin_host_channel.cpp (the channel).
#include <sys/types.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "guardian/plugins/plugin_channel.hpp"
#include "guardian/plugins/plugin_host.hpp"
#include "guardian/process/pidfd.hpp"

namespace guardian::plugins {

// A line for the host: an event (with its sequence number) or another message (seq 0).
struct Outgoing {
  std::uint64_t seq = 0;
  std::string line;
};

using process::UniqueFd;

struct PluginHost::Shared {
  std::mutex mutex;
  QueryHandler query;

  // The host process now (after a crash: its successor) and every host pid this run had.
  pid_t pid = -1;
  std::vector<pid_t> pids;
  UniqueFd socket;
  UniqueFd pidfd;
  UniqueFd wake;  // eventfd: publish() and shutdown() wake the channel thread
  LineBuffer input;

  std::deque<Outgoing> urgent;  // load, replays, answers: before any queued event
  std::deque<Outgoing> events;  // bounded by channel_capacity, then the stop message
  Outgoing writing;             // the line partly written
  std::size_t written = 0;
  std::uint64_t last_sent_seq = 0;
  std::uint64_t seq = 0;
  std::uint64_t dropped = 0;
  std::deque<std::pair<std::uint64_t, std::shared_ptr<const std::string>>> recent;  // for replays

  nlohmann::json config;
  std::map<std::string, std::string> states;  // plugin -> starting|running|failed|crashed|stopped
  std::map<std::string, int> crash_signals;
  std::map<std::string, std::uint64_t> in_call;  // plugin -> seq of the call running now
  std::string last_called;
  std::string crashed_in;  // named by the host's own fatal-signal handler: better than a guess
  std::map<std::string, std::uint64_t> last_done;
  int crashes = 0;
  bool disabled = false;
  std::optional<std::vector<PluginLoadResult>> prepared;
  bool launched = false;
  std::string launch_error;

  bool stop_requested = false;
  bool stop_sent = false;
  bool killed = false;  // by shutdown(), after its deadline: not a crash
  std::int64_t drain_ms = 2000;
  bool finished = false;
  std::condition_variable finished_cv;
  std::vector<std::string> abandoned;
  nlohmann::json stats = nlohmann::json::object();
};

}  // namespace guardian::plugins
