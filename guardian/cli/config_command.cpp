#include "guardian/cli/config_command.hpp"

#include <memory>

#include "guardian/cli/subcommand.hpp"
#include "guardian/config/secrets.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace guardian::cli {

int show_config(const config::Config& config, bool as_json) {
  // Plugin tables carry tokens and webhook URLs: printed masked (this output lands in CI logs).
  const nlohmann::json plugins = config::mask_secrets(config.plugin_tables());
  if (as_json) {
    nlohmann::json out = {{"file", config.file() ? nlohmann::json(config.file()->string()) : nullptr},
                          {"settings", nlohmann::json::object()},
                          {"plugins", plugins}};
    for (const auto& [key, entry] : config.entries())
      out["settings"][key] = {{"value", entry.text}, {"origin", entry.origin.describe()}};
    fmt::print("{}\n", out.dump(2));
    return 0;
  }
  std::size_t key_width = 3, value_width = 5;
  for (const auto& [key, entry] : config.entries()) {
    key_width = std::max(key_width, key.size());
    value_width = std::max(value_width, entry.text.size());
  }
  fmt::print("# file: {}\n", config.file() ? config.file()->string() : "(none found)");
  fmt::print("{:<{}}  {:<{}}  {}\n", "key", key_width, "value", value_width, "origin");
  for (const auto& [key, entry] : config.entries())
    fmt::print("{:<{}}  {:<{}}  {}\n", key, key_width, entry.text, value_width, entry.origin.describe());
  for (const auto& [name, table] : plugins.items())
    fmt::print("plugins.{}  {}  {}\n", name, table.dump(), config.file() ? config.file()->filename().string() : "");
  return 0;
}

int list_config_keys(bool as_json) {
  nlohmann::json keys = nlohmann::json::array();
  for (const auto& spec : config::schema())
    keys.push_back({{"key", spec.key},
                    {"type", config::describe_kind(spec)},
                    {"default", spec.default_text},
                    {"env", spec.env},
                    {"flag", spec.flag.empty() ? "" : "--" + spec.flag},
                    {"description", spec.description}});
  if (as_json) {
    fmt::print("{}\n", keys.dump(2));
    return 0;
  }
  for (const auto& key : keys) {
    fmt::print("{}\n    {}\n    type: {}", key["key"].get<std::string>(), key["description"].get<std::string>(),
               key["type"].get<std::string>());
    if (!key["default"].get<std::string>().empty()) fmt::print(" · default: {}", key["default"].get<std::string>());
    if (!key["flag"].get<std::string>().empty()) fmt::print(" · flag: {}", key["flag"].get<std::string>());
    if (!key["env"].get<std::string>().empty()) fmt::print(" · env: {}", key["env"].get<std::string>());
    fmt::print("\n");
  }
  return 0;
}

Subcommand add_config_command(CLI::App& app, GlobalOptions& global) {
  auto* config_cmd = app.add_subcommand("config", "Show the effective configuration or the list of settings");
  config_cmd->require_subcommand(1);
  auto show_json = std::make_shared<bool>(false), keys_json = std::make_shared<bool>(false);
  auto* show = config_cmd->add_subcommand("show", "Each setting's effective value and where it came from");
  show->add_flag("--json", *show_json, "Print JSON");
  show->add_option("--config", global.config_path, "Read settings from this TOML file")->option_text("PATH");
  auto flags = std::make_shared<SchemaFlags>();
  flags->add_to(*show);
  auto* keys = config_cmd->add_subcommand("keys", "Every setting: type, default, flag, environment variable");
  keys->add_flag("--json", *keys_json, "Print JSON");
  return {config_cmd, [show, keys, show_json, keys_json, flags, &global] {
            if (keys->parsed()) return list_config_keys(*keys_json);
            if (show->parsed()) return show_config(load_config(global, *flags), *show_json);
            return 0;
          }};
}

}  // namespace guardian::cli
