#include "guardian/plugins/plugin_runner.hpp"

#include <cstdio>
#include <map>
#include <set>

#include <fmt/format.h>

#include "guardian/alerts/alert.hpp"

namespace guardian::plugins {
namespace {

// Keys of a [plugins.<name>] table that belong to the host, not the plugin.
constexpr const char* host_keys[] = {"enabled", "path"};

std::string_view level_name(int level) {
  switch (level) {
    case GUARDIAN_LOG_DEBUG: return "debug";
    case GUARDIAN_LOG_INFO: return "info";
    case GUARDIAN_LOG_WARNING: return "warning";
    default: return "error";
  }
}

}  // namespace

void log_to_stderr(const std::string& plugin, int level, const std::string& message) {
  std::fprintf(stderr, "guardian: plugin %s: %s: %s\n", plugin.c_str(), std::string(level_name(level)).c_str(),
               message.c_str());
}

std::string_view to_string(PluginLoadResult::Status status) {
  switch (status) {
    case PluginLoadResult::Status::loaded: return "loaded";
    case PluginLoadResult::Status::disabled: return "disabled";
    case PluginLoadResult::Status::refused: return "refused";
    case PluginLoadResult::Status::failed: return "failed";
  }
  return "failed";
}

nlohmann::json make_event(std::string_view kind, const std::string& run_id, nlohmann::json payload,
                          std::chrono::system_clock::time_point now) {
  nlohmann::json event = payload.is_object() ? std::move(payload) : nlohmann::json::object();
  event["kind"] = kind;
  event["ts"] = guardian::alerts::format_iso8601_utc(now);
  event["run_id"] = run_id;
  return event;
}

std::string PluginLoadResult::describe() const {
  const std::string where = path.empty() ? std::string() : fmt::format(" ({})", path.string());
  switch (status) {
    case Status::loaded: return fmt::format("plugin '{}' {} loaded{}", name, version, where);
    case Status::disabled: return fmt::format("plugin '{}' disabled by configuration{}", name, where);
    case Status::refused: return fmt::format("plugin '{}' refused{}: it {}", name, where, message);
    case Status::failed: return fmt::format("plugin '{}' failed to start{}: {}", name, where, message);
  }
  return message;
}

nlohmann::json PluginLoadResult::to_json() const {
  return {{"name", name},         {"path", path.string()},       {"version", version},
          {"abi_major", abi_major}, {"status", to_string(status)}, {"message", message},
          {"bad_config", bad_config}};
}

PluginRunner::PluginRunner(PluginRunnerOptions options)
    : options_(std::move(options)), services_(std::make_shared<HostServices>()) {
  if (options_.log) {
    services_->set_log_sink(options_.log);
  } else {
    services_->set_log_sink(&log_to_stderr);
  }
  watchdog_ = std::thread([this] { watchdog_loop(); });
}

PluginRunner::~PluginRunner() { shutdown(); }

void PluginRunner::log(const std::string& plugin, int level, const std::string& message) const {
  services_->log(plugin, level, message);
}

void PluginRunner::set_query_handler(QueryHandler handler) { services_->set_query_handler(std::move(handler)); }

void PluginRunner::set_call_observer(HostServices::CallObserver observer) {
  services_->set_call_observer(std::move(observer));
}

std::vector<PluginLoadResult> PluginRunner::load(const nlohmann::json& plugins_config) {
  auto results = prepare(plugins_config);
  auto started = start_prepared();
  for (auto& result : results) {
    if (result.status != PluginLoadResult::Status::loaded) continue;
    for (auto& outcome : started)
      if (outcome.name == result.name && outcome.path == result.path) result = outcome;
  }
  return results;
}

std::vector<PluginLoadResult> PluginRunner::start_prepared() {
  std::vector<PluginLoadResult> results;
  auto prepared = std::exchange(prepared_, {});
  for (auto& [info, config_json] : prepared) {
    PluginLoadResult result;
    result.name = info.name;
    result.path = info.path;
    result.version = info.version;
    result.abi_major = info.abi_major;
    auto worker = std::make_unique<PluginWorker>(info.name, info.api, options_.queue_capacity, services_);
    const std::string error = worker->start(config_json, options_.create_timeout);
    if (!error.empty()) {
      result.status = PluginLoadResult::Status::failed;
      result.message = error;
      results.push_back(std::move(result));
      continue;
    }
    {
      std::lock_guard lock(mutex_);
      if (shut_down_) {
        worker->stop(std::chrono::steady_clock::now() + std::chrono::seconds(1));
        continue;
      }
      workers_.push_back(std::move(worker));
    }
    result.status = PluginLoadResult::Status::loaded;
    results.push_back(std::move(result));
  }
  return results;
}

std::vector<PluginLoadResult> PluginRunner::prepare(const nlohmann::json& plugins_config) {
  std::vector<PluginLoadResult> results;
  const nlohmann::json config = plugins_config.is_object() ? plugins_config : nlohmann::json::object();

  SearchOptions search = options_.search;
  for (const auto& [name, table] : config.items()) {
    if (table.is_object() && table.contains("path") && table["path"].is_string()) {
      search.config_paths.insert(search.config_paths.begin(), table["path"].get<std::string>());
    }
  }
  if (options_.open_only_wanted) {
    auto switched_off = [&](const std::string& name) {
      return config.contains(name) && config[name].is_object() && config[name].contains("enabled") &&
             config[name]["enabled"] == false;
    };
    std::set<std::string> wanted;
    for (const auto& [name, table] : config.items())
      if (!switched_off(name)) wanted.insert(name);
    for (const auto& name : options_.enabled_by_default)
      if (!switched_off(name)) wanted.insert(name);
    search.only_stems = std::move(wanted);
  }
  const auto found = discover_plugins(search);

  std::map<std::string, bool> seen;  // name -> usable copy seen
  for (const auto& info : found) {
    PluginLoadResult result;
    result.name = info.name;
    result.path = info.path;
    result.version = info.version;
    result.abi_major = info.abi_major;
    if (!info.usable()) {
      result.status = PluginLoadResult::Status::refused;
      result.message = info.refused;
      results.push_back(std::move(result));
      continue;
    }
    seen[info.name] = true;
    const bool has_table = config.contains(info.name);
    const nlohmann::json table = has_table ? config[info.name] : nlohmann::json::object();
    if (has_table && !table.is_object()) {
      result.status = PluginLoadResult::Status::failed;
      result.message = fmt::format("its configuration [plugins.{}] must be a table; fix the config file", info.name);
      result.bad_config = true;
      results.push_back(std::move(result));
      continue;
    }
    bool enabled = has_table || options_.enabled_by_default.count(info.name) != 0;
    if (table.contains("enabled")) {
      if (!table["enabled"].is_boolean()) {
        result.status = PluginLoadResult::Status::failed;
        result.message = fmt::format("[plugins.{}] enabled must be true or false; fix the config file", info.name);
        result.bad_config = true;
        results.push_back(std::move(result));
        continue;
      }
      enabled = table["enabled"].get<bool>();
    }
    if (!enabled) {
      result.status = PluginLoadResult::Status::disabled;
      results.push_back(std::move(result));
      continue;
    }
    nlohmann::json user = table;
    for (const char* key : host_keys) user.erase(key);
    nlohmann::json complete;
    std::string error;
    if (!validate_config(info.schema, user, complete, error)) {
      result.status = PluginLoadResult::Status::failed;
      result.message = fmt::format("[plugins.{}]: {}; fix the config file (`guardian plugins` lists the keys)",
                                   info.name, error);
      result.bad_config = true;
      results.push_back(std::move(result));
      continue;
    }
    prepared_.push_back({info, safe_dump(complete)});
    result.status = PluginLoadResult::Status::loaded;
    results.push_back(std::move(result));
  }

  for (const auto& [name, table] : config.items()) {
    if (seen.count(name) != 0) continue;
    if (table.is_object() && table.contains("enabled") && table["enabled"] == false) continue;
    bool reported = false;
    for (const auto& r : results) reported = reported || r.name == name;
    if (reported) continue;
    PluginLoadResult result;
    result.name = name;
    result.status = PluginLoadResult::Status::failed;
    std::string dirs;
    for (const auto& dir : plugin_search_paths(search)) dirs += (dirs.empty() ? "" : ", ") + dir.string();
    result.message = fmt::format("it is configured but no plugin of that name was found in {}; install it, add its "
                                 "directory to GUARDIAN_PLUGIN_PATH, or set [plugins.{}] path = \"/path/to/{}.so\"",
                                 dirs, name, name);
    results.push_back(std::move(result));
  }
  return results;
}

void PluginRunner::publish(const nlohmann::json& event) {
  {
    std::lock_guard lock(mutex_);
    if (shut_down_ || workers_.empty()) return;
  }
  publish_text(std::make_shared<const std::string>(safe_dump(event)));
}

void PluginRunner::publish_text(std::shared_ptr<const std::string> event, std::uint64_t seq) {
  std::lock_guard lock(mutex_);
  if (shut_down_) return;
  for (auto& worker : workers_) worker->enqueue(event, seq);
}

bool PluginRunner::publish_to(const std::string& plugin, std::shared_ptr<const std::string> event, std::uint64_t seq) {
  std::lock_guard lock(mutex_);
  if (shut_down_) return false;
  for (auto& worker : workers_)
    if (worker->name() == plugin) return worker->enqueue(std::move(event), seq), true;
  return false;
}

std::vector<std::string> PluginRunner::loaded_plugins() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> names;
  for (const auto& worker : workers_) names.push_back(worker->name());
  return names;
}

nlohmann::json PluginRunner::stats() const {
  std::lock_guard lock(mutex_);
  nlohmann::json out = nlohmann::json::object();
  for (const auto& worker : workers_) out[worker->name()] = worker->stats().to_json();
  return out;
}

void PluginRunner::watchdog_loop() {
  const auto limit = std::chrono::duration_cast<std::chrono::nanoseconds>(options_.stuck_after);
  const auto period = std::max(std::chrono::milliseconds(10), options_.stuck_after / 4);
  std::unique_lock wlock(watchdog_mutex_);
  while (!watchdog_cv_.wait_for(wlock, period, [&] { return watchdog_stop_; })) {
    std::vector<std::pair<std::string, std::chrono::nanoseconds>> stuck;
    {
      std::lock_guard lock(mutex_);
      for (auto& worker : workers_) {
        if (auto busy = worker->newly_stuck(limit)) stuck.emplace_back(worker->name(), *busy);
      }
    }
    for (const auto& [name, busy] : stuck) {
      log(name, GUARDIAN_LOG_WARNING,
          fmt::format("stuck: on_event has not returned for {:.1f} s; guardian and the other plugins carry on, "
                      "this plugin's events queue up and the oldest are dropped",
                      static_cast<double>(busy.count()) / 1e9));
    }
  }
}

std::vector<std::string> PluginRunner::shutdown(std::chrono::milliseconds drain_timeout) {
  std::vector<std::unique_ptr<PluginWorker>> workers;
  {
    std::lock_guard lock(mutex_);
    if (!shut_down_) {
      shut_down_ = true;
      workers.swap(workers_);
    }
  }
  std::vector<std::string> abandoned;
  const auto deadline = std::chrono::steady_clock::now() + drain_timeout;
  for (auto& worker : workers) worker->request_stop();  // all drain in parallel
  for (auto& worker : workers) {
    if (!worker->stop(deadline)) {
      abandoned.push_back(worker->name());
      const auto stats = worker->stats();
      log(worker->name(), GUARDIAN_LOG_WARNING,
          fmt::format("did not finish within {} ms of shutdown ({} events left unsent); abandoned",
                      drain_timeout.count(), stats.queued));
    }
  }
  {
    std::lock_guard lock(watchdog_mutex_);
    watchdog_stop_ = true;
  }
  watchdog_cv_.notify_all();
  if (watchdog_.joinable()) watchdog_.join();
  if (!abandoned.empty()) services_->detach();
  return abandoned;
}

}  // namespace guardian::plugins
