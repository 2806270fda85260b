// Payloads: how one guardian alert (raised or resolved) looks to each kind of receiver —
// Alertmanager's v2 API, a generic JSON webhook, or a Slack-compatible incoming webhook.
// Pure functions: no networking, no state.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace guardian::webhook {

enum class Format { alertmanager, json, slack };

struct PayloadContext {
  std::string host;           // the machine's name (label "host")
  std::string run_id;         // the run (label "run")
  std::string generator_url;  // Alertmanager's back-link (empty = none)
};

// One alert for POST /api/v2/alerts (an element of the array):
//   labels: alertname = type, severity, subject, run, host, source
//   annotations: summary = title, description = message
//   startsAt = the alert's time; endsAt = resolved_at when it is resolved.
nlohmann::json alertmanager_alert(const nlohmann::json& alert, const PayloadContext& context, const std::string& ends_at);

// The body POSTed for one alert event in the given format. `resolved_at` empty = raised.
std::string body_for(Format format, const nlohmann::json& alert, const PayloadContext& context,
                     const std::string& resolved_at);

// "info" < "warning" < "critical"; unknown = -1.
int severity_rank(const std::string& severity);

}  // namespace guardian::webhook
