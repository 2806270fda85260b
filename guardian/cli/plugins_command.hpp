// `guardian plugins`: lists the plugins guardian finds, their version, ABI, config keys
// (type, default, description), whether the current config would load them, and why
// any was refused.
#pragma once

#include <filesystem>
#include <ostream>
#include <vector>

#include <nlohmann/json.hpp>

namespace guardian::cli {

struct PluginsCommandOptions {
  bool json = false;                               // --json: one JSON document instead of text
  std::vector<std::filesystem::path> plugin_dirs;  // extra directories / .so files (config, flags)
  // The [plugins] table of the effective config ({"<name>": {"enabled": ..., ...}}), used to
  // report which plugins are enabled and whether their tables validate. May be null.
  nlohmann::json plugins_config;
};

// Prints to out; returns 0, or 1 when some plugin was refused or its config is invalid
// (so scripts and CI can check an installation).
int run_plugins_command(const PluginsCommandOptions& options, std::ostream& out);

}  // namespace guardian::cli
