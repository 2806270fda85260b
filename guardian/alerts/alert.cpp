#include "guardian/alerts/alert.hpp"

#include <array>
#include <ctime>
#include <utility>

#include <fmt/format.h>

namespace guardian::alerts {
namespace {

constexpr std::array<std::pair<AlertType, std::string_view>, 14> type_names{{
    {AlertType::server_down, "SERVER_DOWN"},
    {AlertType::server_up, "SERVER_UP"},
    {AlertType::server_slow, "SERVER_SLOW"},
    {AlertType::server_flapping, "SERVER_FLAPPING"},
    {AlertType::server_gave_up, "SERVER_GAVE_UP"},
    {AlertType::resource_warning, "RESOURCE_WARNING"},
    {AlertType::resource_critical, "RESOURCE_CRITICAL"},
    {AlertType::memory_ceiling_kill, "MEMORY_CEILING_KILL"},
    {AlertType::test_timeout, "TEST_TIMEOUT"},
    {AlertType::test_failed, "TEST_FAILED"},
    {AlertType::permission_error, "PERMISSION_ERROR"},
    {AlertType::level_changed, "LEVEL_CHANGED"},
    {AlertType::critical, "CRITICAL"},
    {AlertType::plugin_crashed, "PLUGIN_CRASHED"},
}};

}  // namespace

std::string_view to_string(AlertType type) {
  for (const auto& [t, name] : type_names) {
    if (t == type) return name;
  }
  return "CRITICAL";
}

std::optional<AlertType> parse_alert_type(std::string_view name) {
  for (const auto& [t, n] : type_names) {
    if (n == name) return t;
  }
  return std::nullopt;
}

std::string_view to_string(Severity severity) {
  switch (severity) {
    case Severity::info: return "info";
    case Severity::warning: return "warning";
    case Severity::critical: return "critical";
  }
  return "critical";
}

std::optional<Severity> parse_severity(std::string_view name) {
  if (name == "info") return Severity::info;
  if (name == "warning") return Severity::warning;
  if (name == "critical") return Severity::critical;
  return std::nullopt;
}

Severity default_severity(AlertType type) {
  switch (type) {
    case AlertType::server_up:
    case AlertType::level_changed: return Severity::info;
    case AlertType::server_slow:
    case AlertType::resource_warning:
    case AlertType::test_failed:
    case AlertType::permission_error:
    case AlertType::plugin_crashed: return Severity::warning;
    case AlertType::server_down:
    case AlertType::server_flapping:
    case AlertType::server_gave_up:
    case AlertType::resource_critical:
    case AlertType::memory_ceiling_kill:
    case AlertType::test_timeout:
    case AlertType::critical: return Severity::critical;
  }
  return Severity::critical;
}

std::vector<AlertType> resolved_types(AlertType type) {
  if (type == AlertType::server_up) return {AlertType::server_flapping, AlertType::server_down};
  return {};
}

int rank(Severity severity) {
  switch (severity) {
    case Severity::info: return 0;
    case Severity::warning: return 1;
    case Severity::critical: return 2;
  }
  return 2;
}

std::string format_iso8601_utc(TimePoint time) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  long frac = static_cast<long>(ms % 1000);
  if (frac < 0) {
    frac += 1000;
    secs -= 1;
  }
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

std::string make_dedup_key(AlertType type, std::string_view subject) {
  std::string key{to_string(type)};
  key += ':';
  key += subject;
  return key;
}

nlohmann::json to_json(const Alert& alert) {
  nlohmann::json j{
      {"id", alert.id},
      {"ts", format_iso8601_utc(alert.time)},
      {"ts_unix_ms",
       std::chrono::duration_cast<std::chrono::milliseconds>(alert.time.time_since_epoch()).count()},
      {"type", to_string(alert.type)},
      {"severity", to_string(alert.severity)},
      {"subject", alert.subject},
      {"dedup_key", alert.dedup_key},
      {"title", alert.title},
      {"message", alert.message},
      {"source", alert.source},
      {"context", alert.context},
      {"suppressed_count", alert.suppressed_count},
  };
  if (alert.resolves) j["resolves"] = *alert.resolves;
  if (alert.resolved_at) j["resolved_at"] = format_iso8601_utc(*alert.resolved_at);
  if (alert.resolved_by) j["resolved_by"] = *alert.resolved_by;
  return j;
}

}  // namespace guardian::alerts
