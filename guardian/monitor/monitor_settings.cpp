#include "guardian/monitor/monitor_settings.hpp"

#include <fmt/format.h>

#include "guardian/config/quantity.hpp"
#include "guardian/monitor/disk_cleaner.hpp"

namespace guardian::monitor {
namespace {

std::string trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return std::string(text);
}

double percent_of(const config::Config& config, const std::string& key, double fallback) {
  auto text = config.text(key);
  if (text.empty()) return fallback;
  auto ratio = config::parse_percent(text);
  return ratio ? *ratio * 100.0 : fallback;
}

std::filesystem::path absolute_from(const std::filesystem::path& path, const std::filesystem::path& working_dir) {
  auto normal = (path.is_absolute() ? path : working_dir / path).lexically_normal();
  if (!normal.has_filename() && normal != normal.root_path()) normal = normal.parent_path();  // "x/." → "x"
  return normal;
}

Thresholds thresholds_for(const config::Config& config, const std::string& mode, const std::string& metric,
                          Thresholds fallback) {
  Thresholds t;
  t.warning_percent = percent_of(config, "thresholds." + mode + "." + metric + "_warning", fallback.warning_percent);
  t.critical_percent = percent_of(config, "thresholds." + mode + "." + metric + "_critical", fallback.critical_percent);
  t.warning_percent = percent_of(config, "thresholds." + metric + "_warning", t.warning_percent);
  t.critical_percent = percent_of(config, "thresholds." + metric + "_critical", t.critical_percent);
  if (t.warning_percent > t.critical_percent)
    throw config::ConfigError(fmt::format(
        "the {} warning threshold ({}%) is above its critical threshold ({}%) in {} mode. Set "
        "thresholds.{}_warning below thresholds.{}_critical.",
        metric, t.warning_percent, t.critical_percent, mode, metric, metric));
  return t;
}

}  // namespace

std::vector<std::string> split_list(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    auto comma = text.find(',');
    auto item = trim(text.substr(0, comma));
    if (!item.empty()) out.push_back(std::move(item));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

MonitorSettings MonitorSettings::from_config(const config::Config& config, const std::string& mode,
                                             const std::filesystem::path& working_dir) {
  MonitorSettings s;
  for (Level level : kAllLevels) {
    std::string name(to_string(level));
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    auto& intervals = s.intervals[level];
    intervals.check_interval = config.duration("monitor." + name + ".check_interval").value_or(intervals.check_interval);
    intervals.report_interval =
        config.duration("monitor." + name + ".report_interval").value_or(intervals.report_interval);
    if (intervals.check_interval.count() <= 0)
      throw config::ConfigError(fmt::format("monitor.{}.check_interval must be above 0 (e.g. 5s)", name));
  }

  if (auto pinned = config.text("monitor.level"); !pinned.empty() && pinned != "auto")
    s.progressive.pinned = parse_level(pinned);
  s.progressive.calm_period = config.duration("monitor.calm_period").value_or(s.progressive.calm_period);
  s.progressive.idle_after = config.duration("monitor.idle_after").value_or(s.progressive.idle_after);
  s.progressive.idle_cpu_percent = percent_of(config, "monitor.idle_cpu", s.progressive.idle_cpu_percent);

  s.threshold_policy.persistence_checks = static_cast<int>(config.integer("monitor.persistence").value_or(2));
  s.threshold_policy.hysteresis_percent = percent_of(config, "monitor.hysteresis", 5);
  s.cpu = thresholds_for(config, mode, "cpu", s.cpu);
  s.memory = thresholds_for(config, mode, "memory", s.memory);
  s.disk = thresholds_for(config, mode, "disk", s.disk);
  for (const auto& disk : split_list(config.text("monitor.disks"))) s.disks.push_back(absolute_from(disk, working_dir));
  s.history = static_cast<std::size_t>(config.integer("monitor.history").value_or(1000));

  auto& p = s.protector;
  std::string protect = config.text("protector.mode");
  if (protect.empty()) protect = config.text("protector." + mode + ".mode");
  p.mode = parse_protect_mode(protect).value_or(ProtectMode::renice);
  p.cpu_percent_of_ceiling = percent_of(config, "protector.cpu_share", p.cpu_percent_of_ceiling);
  p.memory_percent_of_ceiling = percent_of(config, "protector.memory_share", p.memory_percent_of_ceiling);
  p.persistence_checks = static_cast<int>(config.integer("protector.persistence").value_or(3));
  p.grace = config.duration("protector.grace").value_or(p.grace);
  p.kill_after = config.duration("protector.kill_after").value_or(p.kill_after);
  p.breaker_actions = static_cast<int>(config.integer("protector.breaker_actions").value_or(5));
  p.breaker_window = config.duration("protector.breaker_window").value_or(p.breaker_window);
  p.protected_patterns = split_list(config.text("protector.protected"));
  for (const auto& item : split_list(config.text("protector.disposable"))) {
    auto path = absolute_from(item, working_dir);
    if (auto why = unsafe_disposable(path, working_dir)) {
      const auto* entry = config.find("protector.disposable");
      throw config::ConfigError(fmt::format(
          "protector.disposable ({}) names '{}', which is {}: guardian only deletes the contents of "
          "throw-away paths such as .pytest_cache or a tmp directory. Remove it from the list.",
          entry ? entry->origin.describe() : "config", item, *why));
    }
    s.disposable.push_back(std::move(path));
  }
  return s;
}

nlohmann::json MonitorSettings::to_json() const {
  nlohmann::json levels = nlohmann::json::object();
  for (Level level : kAllLevels)
    levels[std::string(to_string(level))] = {
        {"check_interval_ms", intervals[level].check_interval.count()},
        {"report_interval_ms", intervals[level].report_interval.count()}};
  auto thresholds = [](const Thresholds& t) {
    return nlohmann::json{{"warning_percent", t.warning_percent}, {"critical_percent", t.critical_percent}};
  };
  nlohmann::json disk_paths = nlohmann::json::array();
  for (const auto& d : disks) disk_paths.push_back(d.string());
  nlohmann::json disposable_paths = nlohmann::json::array();
  for (const auto& d : disposable) disposable_paths.push_back(d.string());
  return {
      {"levels", levels},
      {"pinned", progressive.pinned ? nlohmann::json(to_string(*progressive.pinned)) : nlohmann::json(nullptr)},
      {"calm_period_ms", progressive.calm_period.count()},
      {"idle_after_ms", progressive.idle_after.count()},
      {"thresholds",
       {{"cpu", thresholds(cpu)},
        {"memory", thresholds(memory)},
        {"disk", thresholds(disk)},
        {"persistence_checks", threshold_policy.persistence_checks},
        {"hysteresis_percent", threshold_policy.hysteresis_percent}}},
      {"disks", disk_paths},
      {"protector",
       {{"mode", to_string(protector.mode)},
        {"cpu_percent_of_ceiling", protector.cpu_percent_of_ceiling},
        {"memory_percent_of_ceiling", protector.memory_percent_of_ceiling},
        {"persistence_checks", protector.persistence_checks},
        {"grace_ms", protector.grace.count()},
        {"kill_after_ms", protector.kill_after.count()},
        {"breaker_actions", protector.breaker_actions},
        {"breaker_window_ms", protector.breaker_window.count()},
        {"protected", protector.protected_patterns},
        {"disposable", disposable_paths}}},
  };
}

}  // namespace guardian::monitor
