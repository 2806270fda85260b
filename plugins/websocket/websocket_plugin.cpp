// The websocket plugin's C ABI glue: config, routes, and forwarding every event to the
// Server's broadcast. No Beast here (see server.cpp).
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "dashboard.hpp"
#include "guardian/plugin.h"
#include "plugin_support.hpp"
#include "router.hpp"
#include "server.hpp"
#include "snapshot_feed.hpp"
#include "status_api.hpp"
#include "telemetry.hpp"

namespace {

using guardian::plugin_support::fenced;
using guardian::plugin_support::set_error;
namespace gws = guardian::websocket;

constexpr const char* schema = R"json([
  {"key": "host", "type": "string", "default": "127.0.0.1",
   "description": "address to listen on; anything beyond loopback requires a token"},
  {"key": "port", "type": "int", "default": 8765, "description": "TCP port (0 = any free port; see port_file)"},
  {"key": "token", "type": "string", "default": "",
   "description": "secret clients must send as /ws?token=... or Authorization: Bearer ... (empty = none, loopback only)"},
  {"key": "allowed_origins", "type": "string_list", "default": [],
   "description": "browser Origins accepted besides http://127.0.0.1:<port> and http://localhost:<port> (\"*\" = any)"},
  {"key": "max_queue_messages", "type": "int", "default": 1024,
   "description": "messages waiting for one client before it is dropped as stalled"},
  {"key": "max_clients", "type": "int", "default": 256, "description": "concurrent WebSocket clients"},
  {"key": "ping_interval_ms", "type": "int", "default": 20000,
   "description": "idle time before a ping; a client silent for this long after it is closed"},
  {"key": "port_file", "type": "string", "default": "",
   "description": "write the listening port to this file once listening (useful with port = 0)"},
  {"key": "snapshot_interval_ms", "type": "int", "default": 500,
   "description": "how often new monitor snapshots are fetched for the dashboard and /metrics (at most the fastest check interval)"}
])json";

struct WebSocketPlugin {
  const guardian_host* host = nullptr;
  guardian::plugin_support::HostLog log;
  gws::Telemetry telemetry;
  std::unique_ptr<gws::StatusApi> api;
  std::unique_ptr<gws::Server> server;
  std::unique_ptr<gws::SnapshotFeed> feed;  // after server: it broadcasts through it
};

std::string query_host(const guardian_host* host, const nlohmann::json& what) {
  if (host == nullptr || host->query == nullptr) return R"({"error":"no host query service"})";
  char* answer = host->query(host->host, what.dump().c_str());
  std::string out = answer == nullptr ? std::string("{}") : std::string(answer);
  if (answer != nullptr) host->free_str(answer);
  return out;
}

nlohmann::json query_json(const guardian_host* host, const nlohmann::json& what) {
  try {
    return nlohmann::json::parse(query_host(host, what));
  } catch (const nlohmann::json::exception& e) {
    return {{"error", std::string("guardian answered with malformed JSON: ") + e.what()}};
  }
}

// The HTTP side: legacy /api/status and /api/alerts, the status API, /metrics, the dashboard.
gws::Router make_router(const guardian_host* host, WebSocketPlugin& plugin) {
  gws::Router router;
  plugin.api->add_routes(router);
  router.add("GET", "/metrics", [host, &plugin](const gws::HttpRequest&) {
    gws::HttpResponse response;
    response.content_type = "text/plain; version=0.0.4; charset=utf-8";
    response.body = plugin.telemetry.prometheus(query_json(host, {{"what", "status"}}));
    return response;
  });
  gws::add_dashboard_routes(router);
  router.add("GET", "/healthz", [](const gws::HttpRequest&) { return gws::json_response(200, R"({"ok":true})"); },
             /*requires_token=*/false);
  router.add("GET", "/api/status", [host](const gws::HttpRequest&) {
    return gws::json_response(200, query_host(host, {{"what", "status"}}));
  });
  router.add("GET", "/api/alerts", [host](const gws::HttpRequest&) {
    return gws::json_response(200, query_host(host, {{"what", "alerts"}}));
  });
  return router;
}

bool write_port_file(const std::string& path, std::uint16_t port, std::string& error) {
  const std::string temp = path + ".tmp";
  std::FILE* file = std::fopen(temp.c_str(), "w");
  if (file == nullptr) {
    error = "cannot write port_file " + temp;
    return false;
  }
  std::fprintf(file, "%u\n", static_cast<unsigned>(port));
  std::fclose(file);
  std::error_code ec;
  std::filesystem::rename(temp, path, ec);
  if (ec) error = "cannot write port_file " + path + ": " + ec.message();
  return !ec;
}

void* create(const guardian_host* host, const char* config_json, char** error) {
  WebSocketPlugin* result = nullptr;
  fenced(error, [&] {
    const auto config = nlohmann::json::parse(config_json);
    gws::ServerOptions options;
    options.bind_address = config.value("host", std::string("127.0.0.1"));
    const int port = config.value("port", 8765);
    if (port < 0 || port > 65535) {
      set_error(error, "port must be between 0 and 65535");
      return GUARDIAN_PLUGIN_ERROR;
    }
    options.port = static_cast<std::uint16_t>(port);
    options.token = config.value("token", std::string());
    if (options.token.empty() && !gws::is_loopback_address(options.bind_address)) {
      set_error(error, "listening on " + options.bind_address +
                           " (beyond loopback) requires a token: set [plugins.websocket] token = \"<a long random "
                           "secret>\", or host = \"127.0.0.1\"");
      return GUARDIAN_PLUGIN_ERROR;
    }
    options.allowed_origins = config.value("allowed_origins", std::vector<std::string>{});
    options.max_queue_messages = static_cast<std::size_t>(std::max(1, config.value("max_queue_messages", 1024)));
    options.max_clients = static_cast<std::size_t>(std::max(1, config.value("max_clients", 256)));
    options.ping_interval_ms = std::max(100, config.value("ping_interval_ms", 20000));

    const int snapshot_interval_ms = std::max(50, config.value("snapshot_interval_ms", 500));

    auto plugin = std::make_unique<WebSocketPlugin>();
    plugin->host = host;
    plugin->log = guardian::plugin_support::HostLog(host);
    plugin->api = std::make_unique<gws::StatusApi>(
        [host](const nlohmann::json& what) { return query_json(host, what); },
        [host](const nlohmann::json& what) { return query_host(host, what); }, plugin->telemetry);
    auto log = plugin->log;
    std::string why;
    plugin->server = gws::Server::start(options, make_router(host, *plugin), log, why);
    if (!plugin->server) {
      set_error(error, why);
      return GUARDIAN_PLUGIN_ERROR;
    }
    const auto port_file = config.value("port_file", std::string());
    if (!port_file.empty() && !write_port_file(port_file, plugin->server->port(), why)) {
      set_error(error, why);
      return GUARDIAN_PLUGIN_ERROR;
    }
    WebSocketPlugin* raw = plugin.get();
    plugin->feed = std::make_unique<gws::SnapshotFeed>(
        [host](const nlohmann::json& what) { return query_json(host, what); },
        [raw](const nlohmann::json& snapshot) {
          raw->telemetry.on_snapshot(snapshot);
          raw->server->broadcast(nlohmann::json{{"kind", "snapshot"}, {"ts", snapshot.value("time", "")},
                                                {"snapshot", snapshot}}
                                     .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
        },
        std::chrono::milliseconds(snapshot_interval_ms));
    const std::string base = "http://" + options.bind_address + ":" + std::to_string(plugin->server->port());
    plugin->log.info("listening on ws://" + options.bind_address + ":" + std::to_string(plugin->server->port()) +
                     "/ws" + (options.token.empty() ? "" : " (token required)") + "; dashboard " + base +
                     "/, Prometheus " + base + "/metrics");
    result = plugin.release();
    return GUARDIAN_PLUGIN_OK;
  });
  return result;
}

int on_event(void* self, const char* event_json, char** error) {
  return fenced(error, [&] {
    auto* plugin = static_cast<WebSocketPlugin*>(self);
    try {
      plugin->telemetry.on_event(nlohmann::json::parse(event_json));
    } catch (const nlohmann::json::exception&) {
      // Not JSON: nothing to count; clients still get it as it is.
    }
    plugin->server->broadcast(event_json);
    return GUARDIAN_PLUGIN_OK;
  });
}

void destroy(void* self) {
  auto* plugin = static_cast<WebSocketPlugin*>(self);
  try {
    plugin->feed.reset();
    plugin->server->stop(1000);
  } catch (...) {
  }
  delete plugin;
}

const guardian_plugin plugin_description{
    sizeof(guardian_plugin),
    GUARDIAN_PLUGIN_ABI_MAJOR,
    GUARDIAN_PLUGIN_ABI_MINOR,
    0,
    "websocket",
    "1.0.0",
    "events as JSON to WebSocket clients on /ws; status API, Prometheus /metrics and a live dashboard on the same port",
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
