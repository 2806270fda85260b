// ConfigSchema: a plugin's declared config table (key, type, default, description) and
// the validation of a user's [plugins.<name>] table against it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace guardian::plugins {

enum class ConfigValueType { boolean, integer, number, string, string_list };

std::string_view to_string(ConfigValueType type);

struct ConfigKey {
  std::string key;
  ConfigValueType type = ConfigValueType::string;
  nlohmann::json default_value;  // null when the key has no default
  std::string description;
  bool required = false;
};

struct ConfigSchema {
  std::vector<ConfigKey> keys;
  nlohmann::json to_json() const;
};

// Parses the plugin's config_schema_json. On failure returns false and sets error.
bool parse_config_schema(std::string_view schema_json, ConfigSchema& schema, std::string& error);

// Checks user (a JSON object, host keys like "enabled" already removed) against the
// schema: unknown keys, wrong types and missing required keys are errors naming the
// key and what is expected. On success returns true and fills complete with every
// key (user's value or the default).
bool validate_config(const ConfigSchema& schema, const nlohmann::json& user, nlohmann::json& complete,
                     std::string& error);

// dump() that never throws on invalid UTF-8 coming from a plugin.
std::string safe_dump(const nlohmann::json& value, int indent = -1);

}  // namespace guardian::plugins
