// Alert: one typed, deduplicable condition raised by guardian (server down, resource
// critical, test timeout, ...), with its JSON form shared by the journal, history and plugins.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace guardian::alerts {

enum class AlertType {
  server_down,
  server_up,  // resolves server_down (or server_flapping) for the same subject
  server_slow,
  server_flapping,  // went down again and again: one alert for the whole restart storm
  server_gave_up,   // the circuit breaker (or the restart policy) ended the restarts for good
  resource_warning,
  resource_critical,
  memory_ceiling_kill,
  test_timeout,
  test_failed,
  permission_error,
  level_changed,
  critical,  // generic critical condition
  plugin_crashed,  // the plugin host process died; the run goes on without that plugin
};

enum class Severity { info, warning, critical };

// "SERVER_DOWN", ...; parse returns nullopt for unknown names.
std::string_view to_string(AlertType type);
std::optional<AlertType> parse_alert_type(std::string_view name);
std::string_view to_string(Severity severity);
std::optional<Severity> parse_severity(std::string_view name);

// The severity a type has when the raiser does not say.
Severity default_severity(AlertType type);

// The types a given type resolves, most specific first (SERVER_UP -> SERVER_FLAPPING,
// SERVER_DOWN); empty for the others.
std::vector<AlertType> resolved_types(AlertType type);

// info < warning < critical, for "is this an escalation".
int rank(Severity severity);

using TimePoint = std::chrono::system_clock::time_point;

// "2024-05-01T12:00:00.123Z"
std::string format_iso8601_utc(TimePoint time);

// What a raiser fills in; AlertBus turns it into an Alert.
struct AlertSpec {
  AlertType type = AlertType::critical;
  std::optional<Severity> severity;  // default_severity(type) when empty
  std::string subject;               // what it is about ("api", "tests/test_x.py::test_y"); part of the dedup key
  std::string title;
  std::string message;
  std::string source;  // which component raised it ("health", "monitor", ...)
  nlohmann::json context = nlohmann::json::object();
};

struct Alert {
  std::uint64_t id = 0;  // unique within one AlertBus (run), increasing
  TimePoint time{};
  AlertType type = AlertType::critical;
  Severity severity = Severity::critical;
  std::string subject;
  std::string dedup_key;  // "SERVER_DOWN:api"
  std::string title;
  std::string message;
  std::string source;
  nlohmann::json context = nlohmann::json::object();
  std::uint64_t suppressed_count = 0;     // raises of this key swallowed by the rate limit since the last emission
  std::optional<std::uint64_t> resolves;  // id of the alert this one resolved (SERVER_UP)
  std::optional<TimePoint> resolved_at;   // set in history once resolved
  std::optional<std::uint64_t> resolved_by;
};

std::string make_dedup_key(AlertType type, std::string_view subject);

nlohmann::json to_json(const Alert& alert);

}  // namespace guardian::alerts
