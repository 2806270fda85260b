// The webhook plugin's C ABI glue: config, which events become deliveries, and the
// active-alert bookkeeping Alertmanager needs (re-send while active, endsAt on resolve).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "guardian/plugin.h"
#include "payloads.hpp"
#include "plugin_support.hpp"
#include "sender.hpp"

namespace {

using guardian::plugin_support::fenced;
using guardian::plugin_support::set_error;
namespace gwh = guardian::webhook;

constexpr const char* schema = R"json([
  {"key": "url", "type": "string", "required": true,
   "description": "receiver: Alertmanager's base URL (http://host:9093; /api/v2/alerts is added) or the webhook's full URL (http:// or https://)"},
  {"key": "format", "type": "string", "default": "alertmanager",
   "description": "alertmanager (API v2), json (the alert event as it is) or slack ({\"text\": ...}, Slack-compatible)"},
  {"key": "min_severity", "type": "string", "default": "warning", "description": "info, warning or critical"},
  {"key": "headers", "type": "string_list", "default": [],
   "description": "extra request headers, \"Name: value\" (e.g. \"Authorization: Bearer ...\")"},
  {"key": "timeout_ms", "type": "int", "default": 5000, "description": "per request (connect, send and answer)"},
  {"key": "retries", "type": "int", "default": 5, "description": "retries after a failed attempt (5xx, 408, 429, no answer)"},
  {"key": "backoff_initial_ms", "type": "int", "default": 500, "description": "first retry delay; doubles each retry"},
  {"key": "backoff_max_ms", "type": "int", "default": 30000, "description": "longest retry delay"},
  {"key": "max_queue", "type": "int", "default": 256, "description": "deliveries waiting; beyond it the oldest is dropped (logged)"},
  {"key": "resend_interval_ms", "type": "int", "default": 60000,
   "description": "alertmanager: active critical alerts are re-sent this often so they do not expire (0 = never)"},
  {"key": "generator_url", "type": "string", "default": "", "description": "alertmanager: generatorURL (e.g. the dashboard)"},
  {"key": "host_label", "type": "string", "default": "", "description": "the host label (default: the machine's hostname)"},
  {"key": "ca_file", "type": "string", "default": "",
   "description": "https: extra CA certificates (PEM) to trust besides the system's, e.g. a private CA"}
])json";

struct Active {
  nlohmann::json alert;
  std::string run_id;
};

struct WebhookPlugin {
  guardian::plugin_support::HostLog log;
  gwh::Format format = gwh::Format::alertmanager;
  int min_rank = 1;
  std::string host;
  std::string generator_url;
  std::unique_ptr<gwh::Sender> sender;
  std::mutex mutex;                       // the tick (sender thread) and on_event share the two below
  std::map<std::uint64_t, Active> active;  // alertmanager: sent critical alerts not yet resolved
  std::set<std::uint64_t> resolved;

  gwh::PayloadContext context(const std::string& run_id) const { return {host, run_id, generator_url}; }

  static std::string describe(const nlohmann::json& alert, const char* what) {
    return alert.value("type", std::string("?")) + " " + alert.value("subject", std::string()) + " (alert " +
           std::to_string(alert.value("id", 0)) + ", " + what + ")";
  }

  void send(const nlohmann::json& alert, const std::string& run_id, const std::string& resolved_at) {
    sender->enqueue(gwh::body_for(format, alert, context(run_id), resolved_at),
                    describe(alert, resolved_at.empty() ? "raised" : "resolved"));
  }

  void resolve(std::uint64_t id, const std::string& when) {
    Active entry;
    {
      std::lock_guard lock(mutex);
      if (resolved.count(id)) return;
      auto it = active.find(id);
      if (it == active.end()) return;  // never sent (below min_severity) or not critical
      entry = std::move(it->second);
      active.erase(it);
      resolved.insert(id);
    }
    send(entry.alert, entry.run_id, when);
  }

  void on_event(const nlohmann::json& event) {
    const std::string kind = event.value("kind", "");
    const std::string run_id = event.value("run_id", "");
    const std::string ts = event.value("ts", "");
    if (kind == "alert" && event.contains("alert")) {
      const auto& alert = event["alert"];
      if (alert.contains("resolves") && alert["resolves"].is_number_integer() && alert["resolves"].get<std::int64_t>() > 0)
        resolve(alert["resolves"].get<std::uint64_t>(), alert.value("ts", ts));
      if (gwh::severity_rank(alert.value("severity", "critical")) < min_rank) return;
      if (alert.value("severity", "") == "critical") {
        std::lock_guard lock(mutex);
        active[alert.value("id", std::uint64_t{0})] = {alert, run_id};
      }
      send(alert, run_id, "");
    } else if (kind == "alert_resolved" && event.contains("alert")) {
      const auto& alert = event["alert"];
      resolve(alert.value("id", std::uint64_t{0}), alert.value("resolved_at", ts));
    } else if (kind == "run_finished") {
      // Nobody watches the run's conditions any more: end what is still open.
      std::vector<std::uint64_t> ids;
      {
        std::lock_guard lock(mutex);
        for (const auto& [id, entry] : active) ids.push_back(id);
      }
      for (auto id : ids) resolve(id, ts);
    }
  }

  // Alertmanager forgets an alert not re-sent within its resolve_timeout.
  void resend_active() {
    std::vector<Active> open;
    {
      std::lock_guard lock(mutex);
      for (const auto& [id, entry] : active) open.push_back(entry);
    }
    for (const auto& entry : open) sender->enqueue(gwh::body_for(format, entry.alert, context(entry.run_id), ""),
                                                   describe(entry.alert, "re-sent"));
  }
};

std::string hostname() {
  char buffer[256] = {};
  if (::gethostname(buffer, sizeof buffer - 1) != 0) return "unknown";
  return buffer;
}

void* create(const guardian_host* host, const char* config_json, char** error) {
  WebhookPlugin* result = nullptr;
  fenced(error, [&] {
    const auto config = nlohmann::json::parse(config_json);
    auto plugin = std::make_unique<WebhookPlugin>();
    plugin->log = guardian::plugin_support::HostLog(host);

    const std::string format = config.value("format", std::string("alertmanager"));
    if (format == "alertmanager") {
      plugin->format = gwh::Format::alertmanager;
    } else if (format == "json") {
      plugin->format = gwh::Format::json;
    } else if (format == "slack") {
      plugin->format = gwh::Format::slack;
    } else {
      set_error(error, "format '" + format + "' is unknown: use alertmanager, json or slack");
      return GUARDIAN_PLUGIN_ERROR;
    }
    const std::string severity = config.value("min_severity", std::string("warning"));
    plugin->min_rank = gwh::severity_rank(severity);
    if (plugin->min_rank < 0) {
      set_error(error, "min_severity '" + severity + "' is unknown: use info, warning or critical");
      return GUARDIAN_PLUGIN_ERROR;
    }
    std::string url_text = config.value("url", std::string());
    if (plugin->format == gwh::Format::alertmanager) {
      while (!url_text.empty() && url_text.back() == '/') url_text.pop_back();
      const std::string api = "/api/v2/alerts";
      if (url_text.size() < api.size() || url_text.compare(url_text.size() - api.size(), api.size(), api) != 0)
        url_text += api;
    }
    std::string why;
    auto url = gwh::parse_url(url_text, why);
    if (!url) {
      set_error(error, "[plugins.webhook] " + why);
      return GUARDIAN_PLUGIN_ERROR;
    }
    gwh::SenderOptions options;
    options.url = *url;
    for (const auto& header : config.value("headers", std::vector<std::string>{})) {
      const auto colon = header.find(':');
      if (colon == std::string::npos || colon == 0) {
        set_error(error, "header '" + header + "' must look like \"Name: value\"");
        return GUARDIAN_PLUGIN_ERROR;
      }
      std::string value = header.substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      options.headers.emplace_back(header.substr(0, colon), value);
    }
    options.tls.ca_file = config.value("ca_file", std::string());
    options.timeout = std::chrono::milliseconds(std::max(1, config.value("timeout_ms", 5000)));
    options.retries = std::max(0, config.value("retries", 5));
    options.backoff_initial = std::chrono::milliseconds(std::max(1, config.value("backoff_initial_ms", 500)));
    options.backoff_max = std::chrono::milliseconds(std::max(1, config.value("backoff_max_ms", 30000)));
    options.max_queue = static_cast<std::size_t>(std::max(1, config.value("max_queue", 256)));
    const int resend_ms = plugin->format == gwh::Format::alertmanager ? std::max(0, config.value("resend_interval_ms", 60000)) : 0;
    options.tick_interval = std::chrono::milliseconds(resend_ms);
    plugin->host = config.value("host_label", std::string());
    if (plugin->host.empty()) plugin->host = hostname();
    plugin->generator_url = config.value("generator_url", std::string());

    WebhookPlugin* raw = plugin.get();
    auto log = plugin->log;
    plugin->sender = std::make_unique<gwh::Sender>(
        options, [log](int level, const std::string& message) { log(level, message); },
        [raw] { raw->resend_active(); });
    plugin->log.info("posting alerts (" + format + ", " + severity + " and above) to " + url->scheme + "://" +
                     url->host + ":" + url->port + url->target);
    result = plugin.release();
    return GUARDIAN_PLUGIN_OK;
  });
  return result;
}

int on_event(void* self, const char* event_json, char** error) {
  return fenced(error, [&] {
    static_cast<WebhookPlugin*>(self)->on_event(nlohmann::json::parse(event_json));
    return GUARDIAN_PLUGIN_OK;
  });
}

void destroy(void* self) {
  auto* plugin = static_cast<WebhookPlugin*>(self);
  try {
    // The host gives every plugin ~2 s to drain: leave it some margin.
    plugin->sender->stop(std::chrono::milliseconds(1500));
    const auto stats = plugin->sender->stats();
    const std::string line = "delivered " + std::to_string(stats.sent) + ", failed " + std::to_string(stats.failed) +
                             ", dropped " + std::to_string(stats.dropped) + ", retries " + std::to_string(stats.retries);
    plugin->log(stats.failed || stats.dropped ? GUARDIAN_LOG_WARNING : GUARDIAN_LOG_INFO, line);
  } catch (...) {
  }
  delete plugin;
}

const guardian_plugin plugin_description{
    sizeof(guardian_plugin),
    GUARDIAN_PLUGIN_ABI_MAJOR,
    GUARDIAN_PLUGIN_ABI_MINOR,
    0,
    "webhook",
    "1.0.0",
    "posts alerts to Alertmanager (API v2), a JSON webhook or a Slack-compatible webhook, with retries",
    schema,
    &create,
    &on_event,
    &destroy,
    &guardian::plugin_support::release_string,
};

}  // namespace

GUARDIAN_EXPORT const guardian_plugin* guardian_plugin_entry(uint32_t host_abi_major) {
  return host_abi_major == GUARDIAN_PLUGIN_ABI_MAJOR ? &plugin_description : nullptr;
}
