// `guardian plugins [--json] [--dir PATH...]`: the plugins guardian finds, with their ABI,
// settings and whether the configuration enables them (see plugins_command.hpp).
#include <iostream>
#include <memory>

#include "guardian/cli/plugins_command.hpp"
#include "guardian/cli/subcommand.hpp"
#include "guardian/session/run_plugins.hpp"

namespace guardian::cli {

Subcommand add_plugins_command(CLI::App& app, GlobalOptions& global) {
  auto* plugins = app.add_subcommand("plugins", "List the plugins found: version, ABI, settings, and why any was refused");
  auto options = std::make_shared<PluginsCommandOptions>();
  auto dirs = std::make_shared<std::vector<std::string>>();
  plugins->add_flag("--json", options->json, "Print JSON");
  plugins->add_option("--dir", *dirs, "Also look in this directory or .so file (repeatable)")->option_text("PATH");
  plugins->add_option("--config", global.config_path, "Read settings from this TOML file")->option_text("PATH");
  auto flags = std::make_shared<SchemaFlags>();
  return {plugins, [options, dirs, flags, &global] {
            auto config = load_config(global, *flags);
            options->plugins_config = session::RunPlugins::effective_config(config);
            for (const auto& dir : *dirs) options->plugin_dirs.emplace_back(dir);
            return run_plugins_command(*options, std::cout);
          }};
}

}  // namespace guardian::cli
