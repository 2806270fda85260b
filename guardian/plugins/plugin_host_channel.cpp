// PluginHost's channel: the thread that writes events and answers to the plugin host, reads
// what it says (call announcements, logs, queries, results), and notices when it dies (see
// plugin_host.cpp for launching, loading and shutdown).
#include "guardian/plugins/plugin_host.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include <fmt/format.h>

#include "guardian/process/exit_status.hpp"
#include "guardian/plugins/plugin_host_shared.hpp"
#include "guardian/process/pidfd.hpp"

namespace guardian::plugins {

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
  if (verb == "crashed_in") {
    std::lock_guard lock(s.mutex);
    s.crashed_in = message->body;
    return;
  }
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
  if (!s.crashed_in.empty() && s.states.count(s.crashed_in)) {
    crash.plugin = s.crashed_in;
    s.states[crash.plugin] = "crashed";
    s.crash_signals[crash.plugin] = crash.signal;
  } else if (!s.in_call.empty()) {
    // No line from the host's handler (SIGKILL, a stack overflow): the call it announced last.
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

}  // namespace guardian::plugins
