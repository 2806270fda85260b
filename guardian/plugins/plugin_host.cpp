#include "guardian/plugins/plugin_host.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <set>

#include <fmt/format.h>

#include "guardian/plugins/plugin_host_process.hpp"
#include "guardian/plugins/plugin_host_shared.hpp"
#include "guardian/process/exit_status.hpp"
#include "guardian/process/helper_process.hpp"

namespace guardian::plugins {

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

// Starts `guardian __plugin-host 3 <our pid>` with the socket's other end as fd 3
// (process/helper_process.hpp: stdin from /dev/null, its own process group), and queues the
// load message. Called with the mutex held.
bool PluginHost::spawn(const nlohmann::json& plugins_config, std::string& error) {
  auto& s = *shared_;
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    error = fmt::format("socketpair: {}", std::strerror(errno));
    return false;
  }
  UniqueFd ours(fds[0]);
  UniqueFd theirs(fds[1]);
  process::HelperSpec helper;
  helper.program = options_.program.empty() ? std::string("/proc/self/exe") : options_.program.string();
  helper.argv = {"guardian", std::string(plugin_host_role), std::to_string(process::helper_channel_fd),
                 std::to_string(::getpid())};
  helper.channel_fd = theirs.get();
  std::string why;
  auto started = process::start_helper(helper, why);
  if (started.pid < 0) {
    error = fmt::format("cannot start the plugin host ({}): {}", helper.program, why);
    return false;
  }
  s.pid = started.pid;
  s.pids.push_back(started.pid);
  s.pidfd = std::move(started.pidfd);
  s.socket = std::move(ours);
  ::fcntl(s.socket.get(), F_SETFL, ::fcntl(s.socket.get(), F_GETFL) | O_NONBLOCK);
  s.input = LineBuffer();
  s.writing = {};
  s.written = 0;
  s.in_call.clear();
  s.crashed_in.clear();

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
                    {"use_bundled_dir", options_.search.use_bundled_dir}};
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
