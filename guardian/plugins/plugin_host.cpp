#include "guardian/plugins/plugin_host.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <set>

#include <fmt/format.h>

#include "guardian/plugins/plugin_host_process.hpp"
#include "guardian/process/exit_status.hpp"
#include "guardian/process/pidfd.hpp"

extern char** environ;

namespace guardian::plugins {
namespace {

using process::UniqueFd;

struct Outgoing {
  std::uint64_t seq = 0;  // an event's sequence number; 0 for other messages
  std::string line;
};

}  // namespace

std::string PluginCrash::describe() const {
  const std::string how = signal != 0 ? fmt::format("was killed by {}", process::signal_name(signal))
                                      : fmt::format("exited with code {}", exit_code);
  const std::string who = plugin.empty() ? "the plugin host " + how + " outside any plugin call"
                                         : fmt::format("plugin '{}' crashed: the plugin host {} during its call", plugin, how);
  const std::string then = during_shutdown    ? "while the plugins were finishing; the run's result stands"
                          : plugins_disabled ? "it crashed twice, so plugins are off for the rest of this run; the run goes on"
                          : plugin.empty()   ? "the host was restarted; the run goes on"
                                             : "the host was restarted without it; the run goes on";
  return fmt::format("{}; {}", who, then);
}

std::optional<RunAs> run_as_from_environment() {
  if (::geteuid() != 0) return std::nullopt;
  const char* uid = std::getenv("SUDO_UID");
  const char* gid = std::getenv("SUDO_GID");
  if (uid == nullptr || gid == nullptr) return std::nullopt;
  char* end = nullptr;
  const auto u = std::strtoul(uid, &end, 10);
  if (end == uid || *end != '\0' || u == 0) return std::nullopt;
  const auto g = std::strtoul(gid, &end, 10);
  if (end == gid || *end != '\0') return std::nullopt;
  return RunAs{static_cast<uid_t>(u), static_cast<gid_t>(g)};
}

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

PluginHost::PluginHost(PluginHostOptions options)
    : options_(std::move(options)), shared_(std::make_shared<Shared>()) {
  shared_->wake.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
}

PluginHost::~PluginHost() { shutdown(); }

void PluginHost::set_query_handler(QueryHandler handler) {
  std::lock_guard lock(shared_->mutex);
  shared_->query = std::move(handler);
}

void PluginHost::log(const std::string& plugin, int level, const std::string& message) const {
  if (options_.log) return options_.log(plugin, level, message);
  log_to_stderr(plugin, level, message);
}

std::function<bool(pid_t)> PluginHost::host_pids() const {
  return [shared = shared_](pid_t pid) {
    std::lock_guard lock(shared->mutex);
    return std::find(shared->pids.begin(), shared->pids.end(), pid) != shared->pids.end();
  };
}

// Starts `guardian __plugin-host 3 <our pid>` with the socket's other end as fd 3, stdin from
// /dev/null, in its own process group (the terminal's Ctrl-C is the supervisor's), and queues
// the load message. Called with the mutex held.
bool PluginHost::spawn(const nlohmann::json& plugins_config, std::string& error) {
  auto& s = *shared_;
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    error = fmt::format("socketpair: {}", std::strerror(errno));
    return false;
  }
  UniqueFd ours(fds[0]);
  UniqueFd theirs(fds[1]);
  if (theirs.get() == 3) theirs.reset(::fcntl(fds[1], F_DUPFD_CLOEXEC, 4));  // dup2(3, 3) would keep CLOEXEC
  const std::string program = options_.program.empty() ? std::string("/proc/self/exe") : options_.program.string();
  const std::string role(plugin_host_role);
  const std::string parent = std::to_string(::getpid());
  std::vector<char*> argv{const_cast<char*>("guardian"), const_cast<char*>(role.c_str()), const_cast<char*>("3"),
                          const_cast<char*>(parent.c_str()), nullptr};
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attributes;
  ::posix_spawn_file_actions_init(&actions);
  ::posix_spawn_file_actions_adddup2(&actions, theirs.get(), 3);
  ::posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  ::posix_spawnattr_init(&attributes);
  sigset_t none;
  sigset_t all;
  sigemptyset(&none);
  sigfillset(&all);
  ::posix_spawnattr_setsigmask(&attributes, &none);
  ::posix_spawnattr_setsigdefault(&attributes, &all);
  ::posix_spawnattr_setpgroup(&attributes, 0);
  ::posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, program.c_str(), &actions, &attributes, argv.data(), environ);
  ::posix_spawn_file_actions_destroy(&actions);
  ::posix_spawnattr_destroy(&attributes);
  if (rc != 0) {
    error = fmt::format("cannot start the plugin host ({}): {}", program, std::strerror(rc));
    return false;
  }
  std::error_code pidfd_error;
  s.pidfd = process::open_pidfd(pid, pidfd_error);
  s.pid = pid;
  s.pids.push_back(pid);
  s.socket = std::move(ours);
  ::fcntl(s.socket.get(), F_SETFL, ::fcntl(s.socket.get(), F_GETFL) | O_NONBLOCK);
  s.input = LineBuffer();
  s.writing = {};
  s.written = 0;
  s.in_call.clear();

  nlohmann::json load{{"plugins", plugins_config},
                      {"open_only_wanted", options_.open_only_wanted},
                      {"queue_capacity", options_.queue_capacity},
                      {"create_timeout_ms", options_.create_timeout.count()},
                      {"stuck_after_ms", options_.stuck_after.count()},
                      {"query_timeout_ms", options_.query_timeout.count()},
                      {"memory_limit_bytes", options_.memory_limit_bytes},
                      {"enabled_by_default", options_.enabled_by_default}};
  nlohmann::json paths = nlohmann::json::array();
  for (const auto& path : options_.search.config_paths) paths.push_back(path.string());
  load["search"] = {{"config_paths", paths},
                    {"use_env_path", options_.search.use_env_path},
                    {"use_build_dir", options_.search.use_build_dir},
                    {"use_install_dir", options_.search.use_install_dir}};
  if (auto user = options_.run_as ? options_.run_as : run_as_from_environment())
    load["run_as"] = {{"uid", user->uid}, {"gid", user->gid}};
  s.urgent.push_front({0, channel_line("load", safe_dump(load))});
  return true;
}

namespace {

// Whether any plugin would be loaded: a table without enabled = false, or one enabled by default.
bool wants_any(const nlohmann::json& config, const std::set<std::string>& enabled_by_default) {
  auto switched_off = [&](const std::string& name) {
    return config.contains(name) && config[name].is_object() && config[name].value("enabled", true) == false;
  };
  for (const auto& [name, table] : config.items())
    if (!switched_off(name)) return true;
  for (const auto& name : enabled_by_default)
    if (!switched_off(name)) return true;
  return false;
}

}  // namespace

void PluginHost::launch(const nlohmann::json& plugins_config) {
  auto& s = *shared_;
  std::lock_guard lock(s.mutex);
  if (s.launched) return;
  s.launched = true;
  s.config = plugins_config.is_object() ? plugins_config : nlohmann::json::object();
  if (!wants_any(s.config, options_.enabled_by_default)) {  // a run without plugins starts no host
    s.finished = true;
    return;
  }
  if (!spawn(s.config, s.launch_error)) s.finished = true;
  // The load message goes out now: the host starts on it while the caller carries on.
  while (!s.urgent.empty() && s.urgent.front().line.size() > 0) {
    if (!send_all(s.socket.get(), s.urgent.front().line)) break;
    s.urgent.pop_front();
  }
}

std::vector<PluginLoadResult> PluginHost::load(const nlohmann::json& plugins_config) {
  auto& s = *shared_;
  launch(plugins_config);
  {
    std::lock_guard lock(s.mutex);
    if (s.finished) {
      if (s.launch_error.empty()) return {};  // no plugin wanted
      PluginLoadResult result;
      result.name = "plugin host";
      result.message = s.launch_error;
      return {result};
    }
  }
  // Validation must be done before the run starts anything; create() is not waited for.
  const auto deadline = std::chrono::steady_clock::now() + options_.start_timeout;
  bool host_gone = false;
  for (;;) {
    {
      std::lock_guard lock(s.mutex);
      if (s.prepared) break;
    }
    if (host_gone || std::chrono::steady_clock::now() >= deadline) {
      PluginLoadResult result;
      result.name = "plugin host";
      result.message = host_gone ? "the plugin host ended while opening the plugins (a plugin's library crashes "
                                   "when loaded?); run `guardian plugins` to find it"
                                 : fmt::format("the plugin host did not list the plugins within {} ms",
                                               options_.start_timeout.count());
      std::lock_guard lock(s.mutex);
      s.disabled = true;
      s.stop_requested = true;
      if (s.pid > 0) {
        ::kill(s.pid, SIGKILL);
        int status = 0;
        ::waitpid(s.pid, &status, 0);
        s.pid = -1;
      }
      return {result};
    }
    pump(host_gone);
  }
  std::vector<PluginLoadResult> results;
  {
    std::lock_guard lock(s.mutex);
    results = *s.prepared;
    for (const auto& result : results)
      if (result.status == PluginLoadResult::Status::loaded) s.states[result.name] = "starting";
  }
  channel_ = std::thread([this] { channel_loop(); });
  return results;
}

void PluginHost::publish(const nlohmann::json& event) {
  auto& s = *shared_;
  {
    std::lock_guard lock(s.mutex);
    if (s.disabled || s.stop_requested || s.states.empty()) return;
  }
  auto text = std::make_shared<const std::string>(safe_dump(event));
  bool first_drop = false;
  {
    std::lock_guard lock(s.mutex);
    const std::uint64_t seq = ++s.seq;
    s.recent.emplace_back(seq, text);
    if (s.recent.size() > options_.replay_capacity) s.recent.pop_front();
    s.events.push_back({seq, channel_line("event", fmt::format("{} {}", seq, *text))});
    if (s.events.size() > options_.channel_capacity) {
      s.events.pop_front();
      first_drop = ++s.dropped == 1;
    }
  }
  const std::uint64_t one = 1;
  [[maybe_unused]] auto ignored = ::write(s.wake.get(), &one, sizeof one);
  if (first_drop)
    log("host", GUARDIAN_LOG_WARNING,
        fmt::format("the plugin host is not keeping up: {} events wait for it; dropping the oldest",
                    options_.channel_capacity));
}

// One round: waits for the socket, the host's exit or a wake-up; reads and handles what
// came; writes what is queued. host_gone: the host process ended or closed the socket.
bool PluginHost::pump(bool& host_gone) {
  auto& s = *shared_;
  pollfd fds[3]{};
  {
    std::lock_guard lock(s.mutex);
    if (s.stop_requested && !s.stop_sent) {
      s.events.push_back({0, channel_line("stop", safe_dump({{"drain_ms", s.drain_ms}}))});
      s.stop_sent = true;
    }
    const bool output = !s.urgent.empty() || !s.events.empty() || !s.writing.line.empty();
    fds[0] = {s.socket.get(), static_cast<short>(POLLIN | (output ? POLLOUT : 0)), 0};
    fds[1] = {s.pidfd.get(), POLLIN, 0};
    fds[2] = {s.wake.get(), POLLIN, 0};
  }
  if (::poll(fds, 3, 1000) < 0 && errno != EINTR) return false;
  if (fds[2].revents & POLLIN) {
    std::uint64_t count = 0;
    [[maybe_unused]] auto ignored = ::read(s.wake.get(), &count, sizeof count);
  }
  std::vector<std::string> lines;
  bool eof = false;
  if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
    char buffer[65536];
    for (;;) {
      const auto got = ::read(fds[0].fd, buffer, sizeof buffer);
      if (got > 0) {
        std::lock_guard lock(s.mutex);
        s.input.append(buffer, static_cast<std::size_t>(got));
        continue;
      }
      if (got < 0 && errno == EINTR) continue;
      eof = got == 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
      break;
    }
    std::lock_guard lock(s.mutex);
    while (auto line = s.input.next_line()) lines.push_back(std::move(*line));
  }
  for (const auto& line : lines) handle_line(line);
  {
    std::lock_guard lock(s.mutex);
    for (;;) {
      if (s.writing.line.empty()) {
        auto& from = !s.urgent.empty() ? s.urgent : s.events;
        if (from.empty()) break;
        s.writing = std::move(from.front());
        from.pop_front();
        s.written = 0;
      }
      const auto sent = ::send(s.socket.get(), s.writing.line.data() + s.written, s.writing.line.size() - s.written,
                               MSG_NOSIGNAL | MSG_DONTWAIT);
      if (sent < 0) {
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) eof = true;
        break;
      }
      s.written += static_cast<std::size_t>(sent);
      if (s.written == s.writing.line.size()) {
        if (s.writing.seq != 0) s.last_sent_seq = s.writing.seq;
        s.writing = {};
      }
    }
  }
  host_gone = eof || (fds[1].revents & POLLIN) != 0;
  return true;
}

void PluginHost::handle_line(const std::string& line) {
  auto& s = *shared_;
  auto message = parse_channel_line(line);
  if (!message) return;
  const auto verb = message->verb;
  if (verb == "call" || verb == "done") {
    auto [plugin, seq_text] = split_word(message->body);
    const auto seq = parse_seq(seq_text).value_or(0);
    std::lock_guard lock(s.mutex);
    if (verb == "call") {
      s.in_call[std::string(plugin)] = seq;
      s.last_called = plugin;
    } else {
      s.in_call.erase(std::string(plugin));
      if (seq != 0) s.last_done[std::string(plugin)] = seq;
    }
    return;
  }
  auto body = nlohmann::json::parse(message->body, nullptr, false);
  if (!body.is_object()) return;
  if (verb == "query") {
    QueryHandler handler;
    {
      std::lock_guard lock(s.mutex);
      handler = s.query;
    }
    nlohmann::json answer;
    try {
      answer = handler ? handler(body.value("what", nlohmann::json::object()))
                       : nlohmann::json{{"error", "guardian answers no queries in this context"}};
    } catch (const std::exception& e) {
      answer = {{"error", std::string("query failed: ") + e.what()}};
    }
    std::lock_guard lock(s.mutex);
    s.urgent.push_back({0, channel_line("answer", safe_dump({{"id", body.value("id", 0)}, {"answer", answer}}))});
  } else if (verb == "log") {
    log(body.value("plugin", ""), body.value("level", 1), body.value("message", ""));
  } else if (verb == "prepared" || verb == "started") {
    std::vector<PluginLoadResult> results;
    for (const auto& item : body.value("results", nlohmann::json::array())) {
      PluginLoadResult result;
      result.name = item.value("name", "");
      result.path = item.value("path", "");
      result.version = item.value("version", "");
      result.abi_major = item.value("abi_major", 0u);
      const auto status = item.value("status", "failed");
      result.status = status == "loaded"     ? PluginLoadResult::Status::loaded
                      : status == "disabled" ? PluginLoadResult::Status::disabled
                      : status == "refused"  ? PluginLoadResult::Status::refused
                                             : PluginLoadResult::Status::failed;
      result.message = item.value("message", "");
      result.bad_config = item.value("bad_config", false);
      results.push_back(std::move(result));
    }
    std::vector<std::string> failures;
    {
      std::lock_guard lock(s.mutex);
      if (verb == "prepared") {
        if (!s.prepared) s.prepared = results;
        return;
      }
      for (const auto& result : results) {
        if (s.states[result.name] == "crashed") continue;
        s.states[result.name] = result.status == PluginLoadResult::Status::loaded ? "running" : "failed";
        if (result.status != PluginLoadResult::Status::loaded) failures.push_back(result.describe());
      }
    }
    for (const auto& failure : failures) log("host", GUARDIAN_LOG_ERROR, failure);
  } else if (verb == "stopped") {
    std::lock_guard lock(s.mutex);
    for (const auto& name : body.value("abandoned", nlohmann::json::array())) s.abandoned.push_back(name);
    s.stats = body.value("stats", nlohmann::json::object());
  } else if (verb == "fatal") {
    log("host", GUARDIAN_LOG_ERROR, body.value("message", ""));
  }
}

// The host process ended: expected after "stop"; otherwise a crash, named after the plugin
// whose call was running, and the host restarted without it (once).
void PluginHost::host_ended() {
  auto& s = *shared_;
  // What the host wrote before it died is still in the socket: its last announcements.
  for (int round = 0; round < 64; ++round) {
    std::lock_guard lock(s.mutex);
    char buffer[65536];
    const auto got = ::read(s.socket.get(), buffer, sizeof buffer);
    if (got <= 0) break;
    s.input.append(buffer, static_cast<std::size_t>(got));
  }
  std::vector<std::string> lines;
  {
    std::lock_guard lock(s.mutex);
    while (auto line = s.input.next_line()) lines.push_back(std::move(*line));
  }
  for (const auto& line : lines) handle_line(line);

  pid_t pid = -1;
  {
    std::lock_guard lock(s.mutex);
    pid = s.pid;
  }
  pollfd exit_fd{shared_->pidfd.get(), POLLIN, 0};
  if (::poll(&exit_fd, 1, 2000) == 0) ::kill(pid, SIGKILL);  // closed its socket but lives on
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }

  PluginCrash crash;
  std::unique_lock lock(s.mutex);
  s.pid = -1;
  const bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  if (s.stop_sent && (clean || s.killed)) {
    s.finished = true;
    return;
  }
  crash.during_shutdown = s.stop_sent;
  crash.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  crash.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 0;
  if (!s.in_call.empty()) {
    crash.plugin = s.in_call.count(s.last_called) ? s.last_called : s.in_call.begin()->first;
    s.states[crash.plugin] = "crashed";
    s.crash_signals[crash.plugin] = crash.signal;
  }
  ++s.crashes;
  crash.plugins_disabled = s.crashes >= 2 || s.stop_sent;
  std::string error;
  if (!crash.plugins_disabled) {
    nlohmann::json config = s.config;
    for (const auto& [name, state] : s.states)
      if (state == "crashed") config[name]["enabled"] = false;
    if (s.writing.seq != 0) s.events.push_front(std::move(s.writing));  // half sent: send it whole again
    s.writing = {};
    if (spawn(config, error)) {
      // The events the dead host had been sent but a surviving plugin had not finished.
      for (const auto& [name, state] : s.states) {
        if (state != "running" && state != "starting") continue;
        const auto done = s.last_done.count(name) ? s.last_done[name] : 0;
        for (const auto& [seq, text] : s.recent)
          if (seq > done && seq <= s.last_sent_seq)
            s.urgent.push_back({0, channel_line("replay", fmt::format("{} {} {}", name, seq, *text))});
      }
    } else {
      crash.plugins_disabled = true;
    }
  }
  if (crash.plugins_disabled) {
    s.disabled = true;
    s.finished = true;
    s.events.clear();
    s.urgent.clear();
    for (auto& [name, state] : s.states)
      if (state == "running" || state == "starting") state = "stopped";
  }
  lock.unlock();
  if (!error.empty()) log("host", GUARDIAN_LOG_ERROR, error);
  if (options_.on_crash) options_.on_crash(crash);
  else log(crash.plugin.empty() ? "host" : crash.plugin, GUARDIAN_LOG_ERROR, crash.describe());
}

void PluginHost::channel_loop() {
  auto& s = *shared_;
  for (;;) {
    bool host_gone = false;
    pump(host_gone);
    if (host_gone) host_ended();
    std::lock_guard lock(s.mutex);
    if (s.finished) break;
  }
  s.finished_cv.notify_all();
}

std::vector<std::string> PluginHost::loaded_plugins() const {
  std::lock_guard lock(shared_->mutex);
  std::vector<std::string> names;
  for (const auto& [name, state] : shared_->states)
    if (state == "running" || state == "starting") names.push_back(name);
  return names;
}

nlohmann::json PluginHost::stats() const {
  std::lock_guard lock(shared_->mutex);
  return shared_->stats;
}

nlohmann::json PluginHost::report_section() const {
  std::lock_guard lock(shared_->mutex);
  nlohmann::json out = nlohmann::json::array();
  for (const auto& [name, state] : shared_->states) {
    nlohmann::json entry{{"name", name}, {"state", state == "starting" ? "running" : state}};
    if (auto it = shared_->crash_signals.find(name); it != shared_->crash_signals.end() && it->second != 0)
      entry["signal"] = process::signal_name(it->second);
    out.push_back(std::move(entry));
  }
  return out;
}

std::vector<std::string> PluginHost::shutdown(std::chrono::milliseconds drain_timeout) {
  auto& s = *shared_;
  {
    std::lock_guard lock(s.mutex);
    if (s.stop_requested && !channel_.joinable()) return s.abandoned;
    s.stop_requested = true;
    s.drain_ms = drain_timeout.count();
  }
  const std::uint64_t one = 1;
  [[maybe_unused]] auto ignored = ::write(s.wake.get(), &one, sizeof one);
  if (channel_.joinable()) {
    std::unique_lock lock(s.mutex);
    // The host drains for drain_timeout, then needs a moment to say so and exit.
    const auto deadline = std::chrono::steady_clock::now() + drain_timeout + std::chrono::milliseconds(1000);
    if (!s.finished_cv.wait_until(lock, deadline, [&] { return s.finished; }) && s.pid > 0) {
      s.killed = true;
      ::kill(s.pid, SIGKILL);  // stuck in a plugin that ignores shutdown: the thread sees it die
      for (auto& [name, state] : s.states)
        if (state == "running" || state == "starting") s.abandoned.push_back(name);
    }
    lock.unlock();
    channel_.join();
  } else {
    std::lock_guard lock(s.mutex);
    if (s.pid > 0) {
      ::kill(s.pid, SIGKILL);
      int status = 0;
      ::waitpid(s.pid, &status, 0);
      s.pid = -1;
    }
  }
  std::lock_guard lock(s.mutex);
  for (auto& [name, state] : s.states)
    if (state == "running" || state == "starting") state = "stopped";
  return s.abandoned;
}

}  // namespace guardian::plugins
