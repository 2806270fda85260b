// The notify plugin: one desktop notification per alert at or above min_severity, via
// libnotify, app name "guardian". The host runs it on its own worker thread, so a
// notification daemon that never answers (libnotify waits 25 s) stalls only this plugin.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <libnotify/notify.h>
#include <nlohmann/json.hpp>

#include "guardian/plugin.h"
#include "plugin_support.hpp"

namespace {

using guardian::plugin_support::fenced;
using guardian::plugin_support::set_error;

constexpr const char* schema = R"json([
  {"key": "min_severity", "type": "string", "default": "warning",
   "description": "lowest alert severity shown: info, warning or critical"},
  {"key": "expire_timeout_ms", "type": "int", "default": -1,
   "description": "how long a notification stays up (-1 = the notification server's default, 0 = until dismissed)"},
  {"key": "icon", "type": "string", "default": "",
   "description": "icon name or path shown with each notification (empty = none)"},
  {"key": "retry_after_failure_s", "type": "int", "default": 30,
   "description": "after a failed notification, skip alerts for this long before trying the bus again"}
])json";

int severity_rank(const std::string& severity) {
  if (severity == "critical") return 2;
  if (severity == "warning") return 1;
  if (severity == "info") return 0;
  return -1;
}

NotifyUrgency urgency_for(const std::string& severity) {
  if (severity == "critical") return NOTIFY_URGENCY_CRITICAL;
  if (severity == "warning") return NOTIFY_URGENCY_NORMAL;
  return NOTIFY_URGENCY_LOW;
}

struct NotifyPlugin {
  guardian::plugin_support::HostLog log;
  int min_rank = 1;
  int expire_timeout_ms = -1;
  std::string icon;
  bool failing = false;  // the last show failed; warned once, quiet until it works again
  std::uint64_t failures = 0;  // alerts not shown (failed or skipped while failing)
  std::chrono::seconds retry_after{30};
  std::chrono::steady_clock::time_point retry_at{};
};

void* create(const guardian_host* host, const char* config_json, char** error) {
  NotifyPlugin* result = nullptr;
  fenced(error, [&] {
    const auto config = nlohmann::json::parse(config_json);
    auto plugin = std::make_unique<NotifyPlugin>();
    plugin->log = guardian::plugin_support::HostLog(host);
    const auto min_severity = config.value("min_severity", std::string("warning"));
    plugin->min_rank = severity_rank(min_severity);
    if (plugin->min_rank < 0) {
      set_error(error, "min_severity must be info, warning or critical, not '" + min_severity + "'");
      return GUARDIAN_PLUGIN_ERROR;
    }
    plugin->expire_timeout_ms = config.value("expire_timeout_ms", -1);
    plugin->icon = config.value("icon", std::string());
    plugin->retry_after = std::chrono::seconds(std::max(0, config.value("retry_after_failure_s", 30)));
    // notify_init only records the app name; bus problems surface at the first show.
    if (!notify_is_initted() && !notify_init("guardian")) {
      set_error(error, "libnotify could not initialise");
      return GUARDIAN_PLUGIN_ERROR;
    }
    result = plugin.release();
    return GUARDIAN_PLUGIN_OK;
  });
  return result;
}

std::string body_for(const nlohmann::json& alert) {
  std::string body = alert.value("message", std::string());
  const auto suppressed = alert.value("suppressed_count", std::uint64_t{0});
  if (suppressed > 0) {
    if (!body.empty()) body += "\n";
    body += "(" + std::to_string(suppressed) + " more like this were held back by the rate limit)";
  }
  return body;
}

int on_event(void* self, const char* event_json, char** error) {
  return fenced(error, [&] {
    auto* plugin = static_cast<NotifyPlugin*>(self);
    const auto event = nlohmann::json::parse(event_json);
    if (event.value("kind", std::string()) != "alert" || !event.contains("alert")) return GUARDIAN_PLUGIN_OK;
    const auto& alert = event["alert"];
    const auto severity = alert.value("severity", std::string("critical"));
    if (severity_rank(severity) < plugin->min_rank) return GUARDIAN_PLUGIN_OK;
    // No bus or no daemon: each attempt costs a connection try; do not hammer it.
    if (plugin->failing && std::chrono::steady_clock::now() < plugin->retry_at) {
      ++plugin->failures;
      return GUARDIAN_PLUGIN_OK;
    }

    std::string summary = alert.value("title", std::string());
    if (summary.empty()) summary = alert.value("type", std::string("guardian alert"));
    const std::string body = body_for(alert);
    NotifyNotification* notification =
        notify_notification_new(summary.c_str(), body.c_str(), plugin->icon.empty() ? nullptr : plugin->icon.c_str());
    notify_notification_set_urgency(notification, urgency_for(severity));
    notify_notification_set_timeout(notification, plugin->expire_timeout_ms);
    notify_notification_set_category(notification, "guardian.alert");
    GError* gerror = nullptr;
    const gboolean shown = notify_notification_show(notification, &gerror);
    g_object_unref(notification);
    if (shown) {
      if (plugin->failing) {
        plugin->log.info("desktop notifications work again (" + std::to_string(plugin->failures) +
                         " could not be shown)");
      }
      plugin->failing = false;
      return GUARDIAN_PLUGIN_OK;
    }
    const std::string why = gerror != nullptr ? gerror->message : "unknown error";
    if (gerror != nullptr) g_error_free(gerror);
    ++plugin->failures;
    plugin->retry_at = std::chrono::steady_clock::now() + plugin->retry_after;
    if (!plugin->failing) {
      plugin->failing = true;
      plugin->log.warning(
          "cannot show desktop notifications: " + why +
          ". Is there a session D-Bus (DBUS_SESSION_BUS_ADDRESS) and a notification daemon? Alerts still go to the "
          "journal and the other plugins; set [plugins.notify] enabled = false to silence this. Further failures "
          "are not reported; guardian retries every " + std::to_string(plugin->retry_after.count()) + " s.");
    }
    return GUARDIAN_PLUGIN_OK;  // already reported once; stay quiet
  });
}

void destroy(void* self) { delete static_cast<NotifyPlugin*>(self); }

const guardian_plugin plugin_description{
    sizeof(guardian_plugin),
    GUARDIAN_PLUGIN_ABI_MAJOR,
    GUARDIAN_PLUGIN_ABI_MINOR,
    0,
    "notify",
    "1.0.0",
    "desktop notifications (libnotify) for alerts at or above a minimum severity",
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
