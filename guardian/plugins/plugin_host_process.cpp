#include "guardian/plugins/plugin_host_process.hpp"

#include <grp.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <csignal>
#include <map>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "guardian/plugins/plugin_channel.hpp"
#include "guardian/plugins/plugin_crash_reporter.hpp"
#include "guardian/plugins/plugin_runner.hpp"

namespace guardian::plugins {
namespace {

using namespace std::chrono_literals;

// Lines to the supervisor, from any thread: whole lines under one mutex.
class Sender {
 public:
  explicit Sender(int fd) : fd_(fd) {}
  void send(std::string_view verb, std::string_view body) {
    const std::string line = channel_line(verb, body);
    std::lock_guard lock(mutex_);
    // The supervisor is gone: nothing is left to deliver to, and nobody to report to.
    if (!send_all(fd_, line)) std::_Exit(0);
  }

 private:
  int fd_;
  std::mutex mutex_;
};

// query() from plugin threads: sent to the supervisor, answered by the reader loop.
class Queries {
 public:
  Queries(Sender& sender, std::chrono::milliseconds timeout) : sender_(sender), timeout_(timeout) {}

  nlohmann::json ask(const nlohmann::json& what) {
    std::unique_lock lock(mutex_);
    const std::uint64_t id = ++last_id_;
    waiting_[id];
    lock.unlock();
    sender_.send("query", safe_dump({{"id", id}, {"what", what}}));
    lock.lock();
    const bool answered = cv_.wait_for(lock, timeout_, [&] { return !waiting_[id].is_null(); });
    nlohmann::json answer = std::move(waiting_[id]);
    waiting_.erase(id);
    if (!answered)
      return {{"error", fmt::format("guardian did not answer within {} ms", timeout_.count())}};
    return answer;
  }

  void answer(std::uint64_t id, nlohmann::json answer) {
    {
      std::lock_guard lock(mutex_);
      auto it = waiting_.find(id);
      if (it == waiting_.end()) return;  // too late: the plugin was told so
      it->second = answer.is_null() ? nlohmann::json::object() : std::move(answer);
    }
    cv_.notify_all();
  }

 private:
  Sender& sender_;
  std::chrono::milliseconds timeout_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::uint64_t last_id_ = 0;
  std::map<std::uint64_t, nlohmann::json> waiting_;
};

// Events that arrive while the plugins' create() calls still run, delivered after them
// (as in one process, where load() returned before the first publish).
class StartGate {
 public:
  void hold_or_publish(PluginRunner& runner, std::shared_ptr<const std::string> event, std::uint64_t seq,
                       const std::string& only_to) {
    {
      std::lock_guard lock(mutex_);
      if (!open_) {
        held_.push_back({std::move(event), seq, only_to});
        return;
      }
    }
    deliver(runner, {std::move(event), seq, only_to});
  }
  void open(PluginRunner& runner) {
    std::lock_guard lock(mutex_);
    for (auto& held : held_) deliver(runner, std::move(held));
    held_.clear();
    open_ = true;
  }

 private:
  struct Held {
    std::shared_ptr<const std::string> event;
    std::uint64_t seq;
    std::string only_to;
  };
  static void deliver(PluginRunner& runner, Held held) {
    if (held.only_to.empty()) runner.publish_text(std::move(held.event), held.seq);
    else runner.publish_to(held.only_to, std::move(held.event), held.seq);
  }
  std::mutex mutex_;
  bool open_ = false;
  std::vector<Held> held_;
};

// Becomes the run's user before any plugin code is mapped: a root supervisor's plugins run
// as the user who asked for the run (sudo), so notify reaches that user's session bus and
// the network-facing plugins hold no privilege.
std::string drop_privileges(const nlohmann::json& run_as) {
  if (!run_as.is_object()) return {};
  const auto uid = run_as.value("uid", static_cast<uid_t>(0));
  const auto gid = run_as.value("gid", static_cast<gid_t>(0));
  if (::setgroups(1, &gid) != 0 || ::setresgid(gid, gid, gid) != 0 || ::setresuid(uid, uid, uid) != 0)
    return fmt::format("cannot become uid {} gid {}: {}", uid, gid, std::strerror(errno));
  if (::setuid(0) == 0 && uid != 0) return "dropped privileges could be regained";
  // Set-id transitions clear the dumpable flag, and with it PR_SET_PDEATHSIG.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  return {};
}

void limit_memory(std::uint64_t bytes) {
#if defined(__SANITIZE_ADDRESS__)
  return;  // AddressSanitizer reserves terabytes of address space for its shadow memory
#endif
  if (bytes == 0) return;
  rlimit limit{static_cast<rlim_t>(bytes), static_cast<rlim_t>(bytes)};
  ::setrlimit(RLIMIT_AS, &limit);
}

PluginRunnerOptions runner_options(const nlohmann::json& load) {
  PluginRunnerOptions options;
  options.open_only_wanted = load.value("open_only_wanted", false);
  options.queue_capacity = load.value("queue_capacity", options.queue_capacity);
  options.create_timeout = std::chrono::milliseconds(load.value("create_timeout_ms", 5000));
  options.stuck_after = std::chrono::milliseconds(load.value("stuck_after_ms", 5000));
  for (const auto& name : load.value("enabled_by_default", nlohmann::json::array()))
    options.enabled_by_default.insert(name.get<std::string>());
  const auto search = load.value("search", nlohmann::json::object());
  for (const auto& path : search.value("config_paths", nlohmann::json::array()))
    options.search.config_paths.emplace_back(path.get<std::string>());
  options.search.use_env_path = search.value("use_env_path", true);
  options.search.use_bundled_dir = search.value("use_bundled_dir", true);
  return options;
}

nlohmann::json results_json(const std::vector<PluginLoadResult>& results) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& result : results) out.push_back(result.to_json());
  return out;
}

}  // namespace

int run_plugin_host_process(int socket_fd, pid_t supervisor_pid) {
  // Dies with the supervisor (the socket's EOF says so too, but a plugin may never read).
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != supervisor_pid) return 0;
  // Only the socket: nothing of the supervisor's (pidfds, cgroup files, the sentinel's
  // pipe, the terminal) may reach plugin code, whatever was not close-on-exec.
  if (::close_range(static_cast<unsigned>(socket_fd) + 1, ~0U, 0) != 0)
    for (int fd = socket_fd + 1; fd < 1024; ++fd) ::close(fd);
  // The terminal's Ctrl-C and hang-up are the supervisor's to handle; the host ends when told.
  std::signal(SIGINT, SIG_IGN);
  std::signal(SIGHUP, SIG_IGN);
  std::signal(SIGQUIT, SIG_IGN);
  std::signal(SIGPIPE, SIG_IGN);
  const rlimit no_core{0, 0};  // a crash is a line in the supervisor's log, not a core file of the host
  ::setrlimit(RLIMIT_CORE, &no_core);

  Sender sender(socket_fd);
  LineBuffer input;
  auto read_line = [&]() -> std::optional<std::string> {
    for (;;) {
      if (auto line = input.next_line()) return line;
      char buffer[65536];
      const auto got = ::read(socket_fd, buffer, sizeof buffer);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) return std::nullopt;
      input.append(buffer, static_cast<std::size_t>(got));
    }
  };

  auto first = read_line();
  if (!first) return 0;
  auto message = parse_channel_line(*first);
  if (!message || message->verb != "load") return 2;
  const auto load = nlohmann::json::parse(message->body, nullptr, false);
  if (load.is_discarded()) return 2;
  if (auto problem = drop_privileges(load.value("run_as", nlohmann::json())); !problem.empty()) {
    sender.send("fatal", safe_dump({{"message", problem}}));
    return 3;
  }
  limit_memory(load.value("memory_limit_bytes", std::uint64_t{0}));

  Queries queries(sender, std::chrono::milliseconds(load.value("query_timeout_ms", 2000)));
  auto options = runner_options(load);
  options.log = [&](const std::string& plugin, int level, const std::string& text) {
    sender.send("log", safe_dump({{"plugin", plugin}, {"level", level}, {"message", text}}));
  };
  PluginRunner runner(options);
  runner.set_query_handler([&](const nlohmann::json& what) { return queries.ask(what); });
  crash_reporter::install(socket_fd);
  runner.set_call_observer([&](const std::string& plugin, std::uint64_t seq, bool starting) {
    // On the thread that makes the call: its fatal signal names this plugin.
    if (starting) crash_reporter::enter_call(plugin);
    else crash_reporter::leave_call();
    sender.send(starting ? "call" : "done", fmt::format("{} {}", plugin, seq));
  });

  sender.send("prepared", safe_dump({{"results", results_json(runner.prepare(load.value("plugins", nlohmann::json::object())))}}));
  StartGate gate;
  std::thread starter([&] {  // create() may query: the reader below must keep answering
    auto started = runner.start_prepared();
    gate.open(runner);
    sender.send("started", safe_dump({{"results", results_json(started)}}));
  });

  // Stopping runs beside the reader: plugins may still query while they drain.
  std::thread stopper;
  auto stop = [&](std::chrono::milliseconds drain, bool report) {
    starter.join();
    const auto abandoned = runner.shutdown(drain);
    if (report) sender.send("stopped", safe_dump({{"abandoned", abandoned}, {"stats", runner.stats()}}));
    // Abandoned plugin threads may still run: leave without destructors under them.
    std::_Exit(0);
  };
  while (auto line = read_line()) {
    auto msg = parse_channel_line(*line);
    if (!msg) continue;
    if (msg->verb == "event") {
      auto [seq, event] = split_word(msg->body);
      gate.hold_or_publish(runner, std::make_shared<const std::string>(event), parse_seq(seq).value_or(0), {});
    } else if (msg->verb == "replay") {
      auto [plugin, rest] = split_word(msg->body);
      auto [seq, event] = split_word(rest);
      gate.hold_or_publish(runner, std::make_shared<const std::string>(event), parse_seq(seq).value_or(0),
                           std::string(plugin));
    } else if (msg->verb == "answer") {
      auto answer = nlohmann::json::parse(msg->body, nullptr, false);
      if (answer.is_object()) queries.answer(answer.value("id", std::uint64_t{0}), answer.value("answer", nlohmann::json()));
    } else if (msg->verb == "stop" && !stopper.joinable()) {
      auto request = nlohmann::json::parse(msg->body, nullptr, false);
      const auto drain = std::chrono::milliseconds(request.is_object() ? request.value("drain_ms", 2000) : 2000);
      stopper = std::thread([&stop, drain] { stop(drain, true); });
    }
  }
  // The supervisor is gone: a short last chance for the plugins, nobody to report to.
  if (!stopper.joinable()) stop(200ms, false);
  stopper.join();
  return 0;
}

}  // namespace guardian::plugins
