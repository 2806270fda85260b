#include "guardian/plugins/config_schema.hpp"

#include "guardian/config/suggest.hpp"

#include <fmt/format.h>

namespace guardian::plugins {
namespace {

bool parse_type(std::string_view name, ConfigValueType& type) {
  if (name == "bool") type = ConfigValueType::boolean;
  else if (name == "int") type = ConfigValueType::integer;
  else if (name == "number") type = ConfigValueType::number;
  else if (name == "string") type = ConfigValueType::string;
  else if (name == "string_list") type = ConfigValueType::string_list;
  else return false;
  return true;
}

bool matches(ConfigValueType type, const nlohmann::json& value) {
  switch (type) {
    case ConfigValueType::boolean: return value.is_boolean();
    case ConfigValueType::integer: return value.is_number_integer();
    case ConfigValueType::number: return value.is_number();
    case ConfigValueType::string: return value.is_string();
    case ConfigValueType::string_list:
      if (!value.is_array()) return false;
      for (const auto& item : value) {
        if (!item.is_string()) return false;
      }
      return true;
  }
  return false;
}

std::string known_keys(const ConfigSchema& schema) {
  std::string out;
  for (const auto& key : schema.keys) {
    if (!out.empty()) out += ", ";
    out += key.key;
  }
  return out.empty() ? "(none)" : out;
}

}  // namespace

std::string_view to_string(ConfigValueType type) {
  switch (type) {
    case ConfigValueType::boolean: return "bool";
    case ConfigValueType::integer: return "int";
    case ConfigValueType::number: return "number";
    case ConfigValueType::string: return "string";
    case ConfigValueType::string_list: return "string_list";
  }
  return "string";
}

std::string safe_dump(const nlohmann::json& value, int indent) {
  return value.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

nlohmann::json ConfigSchema::to_json() const {
  auto out = nlohmann::json::array();
  for (const auto& key : keys) {
    out.push_back({{"key", key.key},
                   {"type", to_string(key.type)},
                   {"default", key.default_value},
                   {"description", key.description},
                   {"required", key.required}});
  }
  return out;
}

bool parse_config_schema(std::string_view schema_json, ConfigSchema& schema, std::string& error) {
  schema.keys.clear();
  if (schema_json.empty()) return true;  // a plugin without settings
  const auto doc = nlohmann::json::parse(schema_json, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    error = "its config schema is not valid JSON";
    return false;
  }
  if (!doc.is_array()) {
    error = "its config schema is not a JSON array of {key, type, default, description}";
    return false;
  }
  for (const auto& entry : doc) {
    if (!entry.is_object() || !entry.contains("key") || !entry["key"].is_string() || !entry.contains("type") ||
        !entry["type"].is_string()) {
      error = "its config schema has an entry without a string \"key\" and \"type\": " + safe_dump(entry);
      return false;
    }
    ConfigKey key;
    key.key = entry["key"].get<std::string>();
    if (!parse_type(entry["type"].get<std::string>(), key.type)) {
      error = fmt::format("its config schema gives key '{}' the unknown type '{}' (expected bool, int, number, "
                          "string or string_list)",
                          key.key, entry["type"].get<std::string>());
      return false;
    }
    key.default_value = entry.value("default", nlohmann::json());
    if (!key.default_value.is_null() && !matches(key.type, key.default_value)) {
      error = fmt::format("its config schema gives key '{}' a default ({}) that is not a {}", key.key,
                          safe_dump(key.default_value), to_string(key.type));
      return false;
    }
    if (entry.contains("description") && entry["description"].is_string()) {
      key.description = entry["description"].get<std::string>();
    }
    // value("required", false) would throw on a non-boolean (found by fuzz_plugin_config).
    if (entry.contains("required") && !entry["required"].is_boolean()) {
      error = fmt::format("its config schema gives key '{}' a \"required\" that is not true or false: {}", key.key,
                          safe_dump(entry["required"]));
      return false;
    }
    key.required = entry.value("required", false);
    schema.keys.push_back(std::move(key));
  }
  return true;
}

bool validate_config(const ConfigSchema& schema, const nlohmann::json& user, nlohmann::json& complete,
                     std::string& error) {
  complete = nlohmann::json::object();
  if (!user.is_null() && !user.is_object()) {
    error = "its configuration must be a table of key = value";
    return false;
  }
  if (user.is_object()) {
    for (const auto& [name, value] : user.items()) {
      const ConfigKey* spec = nullptr;
      for (const auto& key : schema.keys) {
        if (key.key == name) spec = &key;
      }
      if (spec == nullptr) {
        std::vector<std::string> keys;
        for (const auto& key : schema.keys) keys.push_back(key.key);
        if (auto close = config::closest_match(name, keys))
          error = fmt::format("unknown key '{}' — did you mean '{}'? (known keys: {})", name, *close, known_keys(schema));
        else
          error = fmt::format("unknown key '{}' (known keys: {})", name, known_keys(schema));
        return false;
      }
      if (!matches(spec->type, value)) {
        error = fmt::format("key '{}' must be a {}, got {}", name, to_string(spec->type), safe_dump(value));
        return false;
      }
      complete[name] = value;
    }
  }
  for (const auto& key : schema.keys) {
    if (complete.contains(key.key)) continue;
    if (key.required) {
      error = fmt::format("required key '{}' is missing ({}: {})", key.key, to_string(key.type), key.description);
      return false;
    }
    if (!key.default_value.is_null()) complete[key.key] = key.default_value;
  }
  return true;
}

}  // namespace guardian::plugins
