// Plugin configuration: a plugin's declared schema (config_schema_json, from a .so guardian
// loads) and a user's [plugins.<name>] table validated against it. The input, as JSON, is both:
// a user table checked against a schema with every value type, and a schema of its own.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "guardian/plugins/config_schema.hpp"

using namespace guardian::plugins;

namespace {

// Every value type, required keys and defaults, like the bundled plugins' schemas.
constexpr const char* kEveryType = R"json([
  {"key": "port", "type": "int", "default": 8765, "description": "TCP port"},
  {"key": "token", "type": "string", "default": "", "description": "bearer token"},
  {"key": "enabled", "type": "bool", "default": true},
  {"key": "ratio", "type": "number", "default": 0.5},
  {"key": "origins", "type": "string_list", "default": []},
  {"key": "url", "type": "string", "required": true}
])json";

void validate(const ConfigSchema& schema, const nlohmann::json& user) {
  nlohmann::json complete;
  std::string error;
  if (validate_config(schema, user, complete, error)) (void)safe_dump(complete);
  else (void)error.size();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  static const ConfigSchema every_type = [] {
    ConfigSchema schema;
    std::string error;
    if (!parse_config_schema(kEveryType, schema, error)) __builtin_trap();
    return schema;
  }();

  const auto user = nlohmann::json::parse(text, nullptr, false);
  if (!user.is_discarded()) validate(every_type, user);

  ConfigSchema own;
  std::string error;
  if (parse_config_schema(text, own, error)) {
    (void)safe_dump(own.to_json());
    validate(own, nlohmann::json::object());
    if (!user.is_discarded()) validate(own, user);
  }
  return 0;
}
