// The jsonfile plugin's C ABI glue: config, event filtering, one file per alert.
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "alert_file_writer.hpp"
#include "guardian/plugin.h"
#include "plugin_support.hpp"

namespace {

using guardian::plugin_support::fenced;
using guardian::plugin_support::set_error;

constexpr const char* schema = R"json([
  {"key": "directory", "type": "string", "default": ".guardian/alerts",
   "description": "where alert files go (created 0700; relative to guardian's working directory)"},
  {"key": "max_files", "type": "int", "default": 1000,
   "description": "keep at most this many alert files, deleting the oldest (0 = no limit)"},
  {"key": "max_age_s", "type": "int", "default": 604800,
   "description": "delete alert files older than this many seconds (0 = no limit)"}
])json";

struct JsonFilePlugin {
  guardian::plugin_support::HostLog log;
  std::unique_ptr<guardian::jsonfile::AlertFileWriter> writer;
};

void* create(const guardian_host* host, const char* config_json, char** error) {
  JsonFilePlugin* result = nullptr;
  fenced(error, [&] {
    const auto config = nlohmann::json::parse(config_json);
    guardian::jsonfile::WriterOptions options;
    options.directory = config.value("directory", std::string(".guardian/alerts"));
    options.max_files = config.value("max_files", std::int64_t{1000});
    options.max_age_s = config.value("max_age_s", std::int64_t{604800});
    auto plugin = std::make_unique<JsonFilePlugin>();
    plugin->log = guardian::plugin_support::HostLog(host);
    plugin->writer = std::make_unique<guardian::jsonfile::AlertFileWriter>(options);
    std::string why;
    if (!plugin->writer->open(why)) {
      set_error(error, why);
      return GUARDIAN_PLUGIN_ERROR;
    }
    result = plugin.release();
    return GUARDIAN_PLUGIN_OK;
  });
  return result;
}

int on_event(void* self, const char* event_json, char** error) {
  return fenced(error, [&] {
    auto* plugin = static_cast<JsonFilePlugin*>(self);
    const auto event = nlohmann::json::parse(event_json);
    if (event.value("kind", std::string()) != "alert" || !event.contains("alert")) return GUARDIAN_PLUGIN_OK;
    nlohmann::json alert = event["alert"];
    if (event.contains("run_id")) alert["run_id"] = event["run_id"];
    const std::int64_t ts_ms = alert.value("ts_unix_ms", std::int64_t{0});
    std::string why;
    const auto path = plugin->writer->write(ts_ms / 1000, alert.value("type", std::string("UNKNOWN")),
                                            alert.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n",
                                            why);
    if (path.empty()) {
      set_error(error, why);
      return GUARDIAN_PLUGIN_ERROR;
    }
    return GUARDIAN_PLUGIN_OK;
  });
}

void destroy(void* self) { delete static_cast<JsonFilePlugin*>(self); }

const guardian_plugin plugin_description{
    sizeof(guardian_plugin),
    GUARDIAN_PLUGIN_ABI_MAJOR,
    GUARDIAN_PLUGIN_ABI_MINOR,
    0,
    "jsonfile",
    "1.0.0",
    "one JSON file per alert (alert_<unix-ts>_<TYPE>.json), written atomically, with retention",
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
