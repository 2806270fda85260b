#include "guardian/session/run_plugins.hpp"

#include <boost/asio/post.hpp>
#include <cstdlib>
#include <fmt/format.h>

#include "guardian/monitor/monitor.hpp"
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

RunPlugins::RunPlugins(context::RunContext& run) : run_(run) {}

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

void RunPlugins::start() {
  plugins::PluginHostOptions options;
  options.open_only_wanted = true;  // a run opens no plugin it will not load (each costs its libraries)
  options.log = [this](const std::string& plugin, int level, const std::string& message) {
    auto lvl = level >= 2 ? report::Level::warning : report::Level::info;
    run_.log.write(lvl, "plugin", "plugin.log", fmt::format("{}: {}", plugin, message), {{"plugin", plugin}});
  };
  host_ = std::make_unique<plugins::PluginHost>(std::move(options));
  host_->set_query_handler([this](const nlohmann::json& what) { return answer_query(what); });
  for (const auto& result : host_->load(effective_config(run_.config))) {
    if (result.ok()) {
      run_.log.info("plugins", "plugin.loaded", result.describe(), result.to_json());
    } else if (!run_.config.plugin_tables().contains(result.name)) {
      // Enabled by default, not asked for: a build without plugins must stay quiet.
      run_.log.info("plugins", "plugin.unavailable", result.describe(), result.to_json());
    } else {
      run_.console.error(result.describe());
      run_.log.warning("plugins", "plugin.refused", result.describe(), result.to_json());
    }
  }
  run_.alerts.subscribe([this](const nlohmann::json& event) {
    if (host_) host_->publish(event);
    post_resolution_check();
  });
  run_.log.set_observer([this](const nlohmann::json& line) {
    if (!host_) return;
    note(line);
    if (auto kind = plugin_kind_of(line)) host_->publish(plugins::make_event(*kind, run_.run_id, line));
    if (line.value("component", "") == "monitor") post_resolution_check();
  });
  run_.observe = [this](const std::string& kind, const nlohmann::json& payload) { observe(kind, payload); };
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
  if (host_) host_->publish(plugins::make_event("run_started", run_.run_id, payload));
}

void RunPlugins::finish(const nlohmann::json& report) {
  if (finished_ || !host_) return;
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
    status["protector_actions"] = protector_actions_;
    return status;
  }
  return {{"error", fmt::format("unknown query '{}': ask for status, alerts or snapshots", kind)}};
}

}  // namespace guardian::session
