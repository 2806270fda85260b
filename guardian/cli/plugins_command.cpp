#include "guardian/cli/plugins_command.hpp"

#include <fmt/format.h>

#include "guardian/plugin.h"
#include "guardian/plugins/plugin_library.hpp"

namespace guardian::cli {
namespace {

using guardian::plugins::PluginInfo;

// What the config would do with a usable plugin: "enabled", "disabled", "not configured"
// or "invalid config: ...".
std::string config_state(const PluginInfo& info, const nlohmann::json& config, bool& invalid) {
  invalid = false;
  if (!config.is_object() || !config.contains(info.name)) return "not configured";
  nlohmann::json table = config[info.name];
  if (!table.is_object()) {
    invalid = true;
    return "invalid config: [plugins." + info.name + "] must be a table";
  }
  if (table.contains("enabled") && table["enabled"] == false) return "disabled";
  table.erase("enabled");
  table.erase("path");
  nlohmann::json complete;
  std::string error;
  if (!guardian::plugins::validate_config(info.schema, table, complete, error)) {
    invalid = true;
    return "invalid config: " + error;
  }
  return "enabled";
}

std::string value_text(const nlohmann::json& value) {
  return value.is_null() ? std::string("(none)") : guardian::plugins::safe_dump(value);
}

}  // namespace

int run_plugins_command(const PluginsCommandOptions& options, std::ostream& out) {
  guardian::plugins::SearchOptions search;
  search.config_paths = options.plugin_dirs;
  const auto dirs = guardian::plugins::plugin_search_paths(search);
  const auto found = guardian::plugins::discover_plugins(search);

  int status = 0;
  nlohmann::json doc{{"host_abi", GUARDIAN_PLUGIN_ABI_MAJOR}, {"search_path", nlohmann::json::array()},
                     {"plugins", nlohmann::json::array()}};
  for (const auto& dir : dirs) doc["search_path"].push_back(dir.string());

  std::string text = fmt::format("guardian plugin ABI {}; searched: ", GUARDIAN_PLUGIN_ABI_MAJOR);
  for (std::size_t i = 0; i < dirs.size(); ++i) text += (i ? ", " : "") + dirs[i].string();
  text += "\n";
  if (found.empty()) {
    text += "no plugins found; build them (GUARDIAN_BUILD_PLUGINS=ON) or add a directory to GUARDIAN_PLUGIN_PATH\n";
  }

  for (const auto& info : found) {
    nlohmann::json entry = info.to_json();
    if (!info.usable()) {
      status = 1;
      text += fmt::format("\n{}  REFUSED  ({})\n  it {}\n", info.name, info.path.string(), info.refused);
      doc["plugins"].push_back(std::move(entry));
      continue;
    }
    bool invalid = false;
    const std::string state = config_state(info, options.plugins_config, invalid);
    if (invalid) status = 1;
    entry["state"] = state;
    text += fmt::format("\n{} {}  ABI {}.{}  [{}]  ({})\n", info.name, info.version, info.abi_major, info.abi_minor,
                        state, info.path.string());
    if (!info.description.empty()) text += "  " + info.description + "\n";
    for (const auto& key : info.schema.keys) {
      text += fmt::format("  {:<20} {:<11} default {:<24} {}{}\n", key.key, guardian::plugins::to_string(key.type),
                          value_text(key.default_value), key.description, key.required ? " (required)" : "");
    }
    doc["plugins"].push_back(std::move(entry));
  }
  if (options.json) {
    out << guardian::plugins::safe_dump(doc, 2) << "\n";
  } else {
    out << text;
  }
  return status;
}

}  // namespace guardian::cli
