#pragma once
// How subcommands plug into the command line: each one adds itself to the CLI11 app and
// hands back what to run when the user chose it. cli_main.cpp lists them once.
#include <CLI/CLI.hpp>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "guardian/cli/schema_flags.hpp"
#include "guardian/config/config.hpp"

namespace guardian::cli {

/// What every subcommand shares.
struct GlobalOptions {
  std::optional<std::string> config_path;      // --config
  bool has_command_marker = false;             // a "--" was given
  std::vector<std::string> command_after_marker;
};

struct Subcommand {
  CLI::App* app = nullptr;
  std::function<int()> run;
};

/// The layered configuration with these flags on top (throws config::ConfigError).
config::Config load_config(const GlobalOptions& global, const SchemaFlags& flags);

/// The command to supervise: after "--", or what prefix_command left in `command_app`.
/// Empty optional (after printing why) when it is missing or malformed.
std::optional<std::vector<std::string>> command_to_supervise(const GlobalOptions& global,
                                                             const CLI::App& command_app);

Subcommand add_run_command(CLI::App& app, GlobalOptions& global);
Subcommand add_config_command(CLI::App& app, GlobalOptions& global);
Subcommand add_doctor_command(CLI::App& app, GlobalOptions& global);
Subcommand add_serve_command(CLI::App& app, GlobalOptions& global);
Subcommand add_plugins_command(CLI::App& app, GlobalOptions& global);
Subcommand add_runs_command(CLI::App& app, GlobalOptions& global);
Subcommand add_generate_command(CLI::App& app, GlobalOptions& global);  // hidden: man page, completions

}  // namespace guardian::cli
