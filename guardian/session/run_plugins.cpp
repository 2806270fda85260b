#include "guardian/session/run_plugins.hpp"

#include <boost/asio/post.hpp>
#include <cstdlib>
#include <fmt/format.h>

#include "guardian/config/config.hpp"
#include "guardian/monitor/monitor.hpp"
#include "guardian/process/exit_status.hpp"
#include "guardian/report/clock.hpp"

namespace guardian::session {
namespace {

using namespace std::chrono_literals;

// Event-log events that plugins receive too, and the kind they get them as.
std::optional<std::string> plugin_kind_of(const nlohmann::json& line) {
  auto component = line.value("component", "");
  auto event = line.value("event", "");
  if (component == "monitor" && event == "level.changed") return "level_changed";
  if (component == "monitor" && event == "monitor.report") return "report";
  return std::nullopt;
}

}  // namespace

RunPlugins::RunPlugins(context::RunContext& run)
    : run_(run), deferred_(waits_for_first_alert(run.config)), holding_(deferred_) {}

RunPlugins::~RunPlugins() {
  finish(nullptr);
  *alive_ = false;
  if (run_.observe) run_.observe = nullptr;
}

nlohmann::json RunPlugins::effective_config(const config::Config& config) {
  nlohmann::json tables = config.plugin_tables();
  auto enable_unless_said = [&](const char* name) {
    if (!tables.contains(name)) tables[name] = {{"enabled", true}};
  };
  enable_unless_said("jsonfile");  // one JSON file per alert, the seeds' format
  if (std::getenv("DBUS_SESSION_BUS_ADDRESS")) enable_unless_said("notify");  // a desktop session
  return tables;
}

std::optional<plugins::RunAs> RunPlugins::host_user(const config::Config& config) {
  const config::Entry* configured = config.find("plugins.user");
  return plugins::plugin_host_user(configured ? configured->text : std::string(),
                                   configured ? configured->origin.describe() : std::string());
}

bool RunPlugins::waits_for_first_alert(const config::Config& config) {
  // jsonfile and notify ignore every event but alerts (their on_event's first line), and
  // jsonfile creates its directory at its first file: before an alert they do nothing.
  return config.plugin_tables().empty();
}

void RunPlugins::launch() {
  if (!deferred_) make_host();
}

void RunPlugins::make_host() {
  if (host_) return;
  plugins::PluginHostOptions options;
  options.run_as = host_user(run_.config);
  options.open_only_wanted = true;  // a run opens no plugin it will not load (each costs its libraries)
  options.log = [this](const std::string& plugin, int level, const std::string& message) {
    on_plugin_log(plugin, level, message);
  };
  options.on_crash = [this](const plugins::PluginCrash& crash) { on_plugin_crash(crash); };
  host_ = std::make_unique<plugins::PluginHost>(std::move(options));
  host_->set_query_handler([this](const nlohmann::json& what) { return answer_query(what); });
  *host_pids_ = host_->host_pids();
  host_->launch(effective_config(run_.config));
}

void RunPlugins::start() {
  if (!deferred_) open_host();
  listen();
}

void RunPlugins::open_host() {
  make_host();
  report_load_results(host_->load(effective_config(run_.config)));
}

void RunPlugins::report_load_results(const std::vector<plugins::PluginLoadResult>& results) {
  for (const auto& result : results) {
    // A misspelt key is a usage error, like one in guardian's own tables: nothing starts.
    if (result.bad_config && run_.config.plugin_tables().contains(result.name)) {
      host_->shutdown(0ms);
      host_.reset();
      throw config::ConfigError(result.message + ".");
    }
  }
  for (const auto& result : results) {
    if (result.ok()) {
      run_.log.info("plugins", "plugin.loaded", result.describe(), result.to_json());
    } else if (!run_.config.plugin_tables().contains(result.name)) {
      // Enabled by default, not asked for: a build without plugins must stay quiet.
      run_.log.info("plugins", "plugin.unavailable", result.describe(), result.to_json());
    } else {
      run_.console.info(result.describe());  // plugin trouble: one line, --quiet silences it
      run_.log.warning("plugins", "plugin.refused", result.describe(), result.to_json());
    }
  }
}

void RunPlugins::listen() {
  run_.alerts.subscribe([this](const nlohmann::json& event) {
    if (!hold(event) && host_) host_->publish(event);
    post_resolution_check();
  });
  run_.log.set_observer([this](const nlohmann::json& line) {
    note(line);  // the status a plugin may query later, whether or not its host runs yet
    if (!host_) return;
    if (auto kind = plugin_kind_of(line)) host_->publish(plugins::make_event(*kind, run_.run_id, line));
    if (line.value("component", "") == "monitor") post_resolution_check();
  });
  run_.observe = [this](const std::string& kind, const nlohmann::json& payload) { observe(kind, payload); };
}

// Called by the bus under its lock, maybe off the run's thread: the host starts on the run's thread.
bool RunPlugins::hold(const nlohmann::json& alert) {
  std::lock_guard lock(held_mutex_);
  if (!holding_) return false;
  held_alerts_.push_back(alert);
  if (held_alerts_.size() == 1)
    boost::asio::post(run_.io, [this, alive = std::weak_ptr<bool>(alive_)] {
      if (!alive.expired()) start_deferred_host();
    });
  return true;
}

// On the run's thread. Spawning the host is a posix_spawn (≈ 1 ms); waiting for it to open
// and validate its plugins is not: that wait runs on loader_, so the event loop (the /proc
// watchdog's duty cycle among it) never stalls behind it. The held events follow once the
// plugins listen (PluginHost drops events published before load() has returned).
void RunPlugins::start_deferred_host() {
  if (host_ || finished_) return;
  make_host();
  loader_ = std::thread([this, alive = std::weak_ptr<bool>(alive_)] {
    std::vector<plugins::PluginLoadResult> results;
    try {
      results = host_->load(effective_config(run_.config));
    } catch (const std::exception& error) {
      plugins::PluginLoadResult failed;
      failed.name = "plugin host";
      failed.message = error.what();
      results.push_back(failed);
    }
    {
      std::lock_guard lock(held_mutex_);
      load_results_ = std::move(results);
    }
    boost::asio::post(run_.io, [this, alive] {
      if (!alive.expired()) install_deferred_host();
    });
  });
}

// On the run's thread (posted by loader_, or from finish()): the plugins listen now.
void RunPlugins::install_deferred_host() {
  if (!loader_.joinable()) return;  // installed already
  loader_.join();
  std::lock_guard lock(held_mutex_);
  report_load_results(load_results_);
  if (host_) {
    if (held_run_started_) host_->publish(*held_run_started_);
    for (const auto& alert : held_alerts_) host_->publish(alert);
  }
  held_run_started_.reset();
  held_alerts_.clear();
  holding_ = false;
}

void RunPlugins::exclude_from(process::TreeMembership& membership) const {
  membership.exclude_subtrees_of(host_pids());
}

std::function<bool(pid_t)> RunPlugins::host_pids() const {
  return [slot = host_pids_](pid_t pid) { return (*slot)(pid); };
}

// Plugin log lines go to the event log; a plugin's first warning or error also goes to
// stderr, once (notify without a bus, a webhook that fails: a line, not a line per event).
void RunPlugins::on_plugin_log(const std::string& plugin, int level, const std::string& message) {
  auto lvl = level >= GUARDIAN_LOG_WARNING ? report::Level::warning : report::Level::info;
  run_.log.write(lvl, "plugin", "plugin.log", fmt::format("{}: {}", plugin, message), {{"plugin", plugin}});
  if (level < GUARDIAN_LOG_WARNING) return;
  {
    std::lock_guard lock(told_mutex_);
    if (!told_on_stderr_.insert(plugin).second) return;
  }
  run_.console.info(fmt::format("plugin {}: {} (its further messages: events.jsonl)", plugin, message));
}

// On PluginHost's channel thread: the line and the log now, the alert on the run's thread.
void RunPlugins::on_plugin_crash(const plugins::PluginCrash& crash) {
  const std::string line = crash.describe();
  nlohmann::json context{{"plugin", crash.plugin},
                         {"signal", crash.signal ? nlohmann::json(process::signal_name(crash.signal)) : nlohmann::json()},
                         {"exit_code", crash.signal ? nlohmann::json() : nlohmann::json(crash.exit_code)},
                         {"plugins_disabled", crash.plugins_disabled}};
  run_.console.info(line);
  run_.log.write(report::Level::error, "plugins", "plugin.crashed", line, context);
  boost::asio::post(run_.io, [this, alive = std::weak_ptr<bool>(alive_), line, context] {
    if (alive.expired()) return;
    const std::string who = context.value("plugin", "");
    run_.alerts.raise(alerts::AlertSpec{alerts::AlertType::plugin_crashed, std::nullopt,
                                        who.empty() ? std::string("plugin host") : who,
                                        who.empty() ? std::string("The plugin host crashed")
                                                    : fmt::format("Plugin '{}' crashed", who),
                                        line, "plugins", context});
  });
}

void RunPlugins::note(const nlohmann::json& line) {
  const auto event = line.value("event", "");
  std::lock_guard lock(state_mutex_);
  if (event == "servers.starting") run_state_ = "starting_servers";
  if (event.rfind("protector.", 0) == 0) {
    auto& count = protector_actions_[event.substr(std::string("protector.").size())];
    count = count.is_number() ? count.get<int>() + 1 : 1;
  }
  if (event == "run.started" || event == "serve.started") {
    run_state_ = "running";
    if (line.contains("context")) enforcement_ = line["context"].value("enforcement", nlohmann::json());
  }
}

void RunPlugins::observe(const std::string& kind, const nlohmann::json& payload) {
  if (kind == "server") {
    std::lock_guard lock(state_mutex_);
    servers_[payload.value("server", "")] = payload;
  } else if (kind == "tests") {
    std::lock_guard lock(state_mutex_);
    tests_ = payload.value("tests", nlohmann::json());
  }
  if (host_ && !finished_) host_->publish(plugins::make_event(kind, run_.run_id, payload));
}

void RunPlugins::post_resolution_check() {
  if (resolution_check_posted_.exchange(true)) return;
  boost::asio::post(run_.io, [this, alive = std::weak_ptr<bool>(alive_)] {
    if (alive.expired()) return;
    resolution_check_posted_ = false;
    check_resolutions();
  });
}

void RunPlugins::check_resolutions() {
  std::map<std::string, nlohmann::json> now;
  for (const auto& alert : run_.alerts.active()) now[alert.value("dedup_key", "")] = alert;
  std::vector<nlohmann::json> resolved;
  {
    std::lock_guard lock(state_mutex_);
    for (const auto& [key, alert] : active_alerts_)
      if (!now.count(key)) resolved.push_back(alert);
    active_alerts_ = std::move(now);
  }
  for (auto& alert : resolved) {
    alert["resolved_at"] = report::iso8601(std::chrono::system_clock::now());
    if (host_ && !finished_) host_->publish(plugins::make_event("alert_resolved", run_.run_id, {{"alert", alert}}));
  }
}

void RunPlugins::publish_run_started(const nlohmann::json& payload) {
  auto event = plugins::make_event("run_started", run_.run_id, payload);
  {
    std::lock_guard lock(held_mutex_);
    if (holding_) {
      held_run_started_ = std::move(event);
      return;
    }
  }
  if (host_) host_->publish(event);
}

void RunPlugins::finish(const nlohmann::json& report) {
  if (finished_) return;
  if (!host_ && !report.is_null()) {
    // An alert raised once the event loop had stopped (the posted start never ran).
    bool alert_waits = false;
    {
      std::lock_guard lock(held_mutex_);
      alert_waits = !held_alerts_.empty();
    }
    if (alert_waits) start_deferred_host();
  }
  install_deferred_host();  // a host still opening its plugins: wait for them (≤ start_timeout)
  if (!host_) return;
  check_resolutions();  // the last ones, while plugins still listen
  finished_ = true;
  {
    std::lock_guard lock(state_mutex_);
    run_state_ = "finished";
  }
  run_.log.set_observer(nullptr);
  if (!report.is_null()) host_->publish(plugins::make_event("run_finished", run_.run_id, {{"report", report}}));
  auto abandoned = host_->shutdown(2000ms);
  for (const auto& name : abandoned)
    run_.log.warning("plugins", "plugin.abandoned",
                     fmt::format("plugin '{}' did not finish within 2s and was abandoned", name));
  run_.report.sections["plugins"] = host_->report_section();  // report.json is written after this
}

nlohmann::json RunPlugins::answer_query(const nlohmann::json& what) const {
  // Runs on plugin threads: only thread-safe sources (the alert bus and the snapshot ring
  // lock; the rest is fixed for the run).
  auto kind = what.value("what", std::string("status"));
  if (kind == "alerts") return {{"active", run_.alerts.active()}, {"history", run_.alerts.history(what.value("limit", 100))}};
  if (kind == "snapshots") {
    if (!run_.monitor) return {{"snapshots", nlohmann::json::array()}};
    monitor::SnapshotQuery query;
    if (what.contains("minutes"))
      query.since = std::chrono::system_clock::now() - std::chrono::minutes(what["minutes"].get<int>());
    if (what.contains("seconds"))
      query.since = std::chrono::system_clock::now() - std::chrono::seconds(what["seconds"].get<int>());
    if (what.contains("limit")) query.limit = what["limit"].get<std::size_t>();
    return run_.monitor->snapshots_json(query);
  }
  if (kind == "status") {
    nlohmann::json status = {{"run_id", run_.run_id},
                             {"command", run_.options.command},
                             {"mode", run_.options.mode},
                             {"started_at", report::iso8601(run_.report.started_at)},
                             {"alerts", run_.alerts.summary()}};
    if (run_.monitor) {
      if (auto latest = run_.monitor->latest_snapshot()) status["latest_snapshot"] = to_json(*latest);
      status["monitor"] = {{"level", monitor::to_string(run_.monitor->level())},
                           {"reason", run_.monitor->reason()},
                           {"settings", run_.monitor->settings().to_json()}};
    }
    std::lock_guard lock(state_mutex_);
    status["state"] = run_state_;
    status["enforcement"] = enforcement_;
    status["servers"] = servers_;
    status["tests"] = tests_;
    status["protector_actions"] = protector_actions_;
    return status;
  }
  return {{"error", fmt::format("unknown query '{}': ask for status, alerts or snapshots", kind)}};
}

}  // namespace guardian::session
