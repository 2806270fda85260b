#include "guardian/cli/cli_main.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <csignal>
#include <fmt/format.h>

#include "guardian/cli/config_command.hpp"
#include "guardian/cli/schema_flags.hpp"
#include "guardian/config/config.hpp"
#include "guardian/process/exit_status.hpp"
#include "guardian/process/launch.hpp"
#include "guardian/supervise/supervisor.hpp"

namespace guardian::cli {
namespace {

namespace exit_code = process::exit_code;

void usage_error(const std::string& message) { fmt::print(stderr, "guardian: {}\n", message); }

config::Config load_config(const std::optional<std::string>& config_path, const SchemaFlags& flags) {
  config::Sources sources;
  if (config_path) sources.explicit_file = *config_path;
  sources.environment = config::guardian_environment();
  sources.flags = flags.given();
  return config::Config::load(sources);
}

}  // namespace

int main(int argc, char** argv) {
  // Before anything changes a disposition: children get back exactly what guardian got.
  process::capture_inherited_signal_state();
  ::signal(SIGPIPE, SIG_IGN);  // a closed socket or pipe is an error to handle, not a death

  CLI::App app{"guardian — supervise test runs and development servers", "guardian"};
  app.set_version_flag("--version", std::string("guardian ") + GUARDIAN_VERSION);
  app.require_subcommand(1);
  std::optional<std::string> config_path;
  app.add_option("--config", config_path, "Read settings from this TOML file instead of ./guardian.toml")
      ->option_text("PATH");

  auto* run = app.add_subcommand("run", "Run a command under supervision: guardian run [options] -- COMMAND [ARGS...]");
  SchemaFlags run_flags;
  run_flags.add_to(*run);
  run->add_option("--config", config_path, "Read settings from this TOML file")->option_text("PATH");
  // Everything from the command on (after "--", or from the first word that is not an
  // option) belongs to the command, options included.
  run->prefix_command();
  run->allow_extras();

  auto* config_cmd = app.add_subcommand("config", "Show the effective configuration or the list of settings");
  config_cmd->require_subcommand(1);
  bool show_json = false, keys_json = false;
  auto* config_show = config_cmd->add_subcommand("show", "Each setting's effective value and where it came from");
  config_show->add_flag("--json", show_json, "Print JSON");
  SchemaFlags show_flags;
  show_flags.add_to(*config_show);
  auto* config_keys = config_cmd->add_subcommand("keys", "Every setting: type, default, flag, environment variable");
  config_keys->add_flag("--json", keys_json, "Print JSON");

  // The command after "--" is never parsed as guardian's options (CLI11 would hand "--"
  // back to the parent app); without "--", prefix_command stops at the command's first word.
  std::vector<std::string> args(argv + 1, argv + argc);
  std::vector<std::string> command_after_marker;
  bool has_marker = false;
  if (auto marker = std::find(args.begin(), args.end(), "--"); marker != args.end()) {
    has_marker = true;
    command_after_marker.assign(marker + 1, args.end());
    args.erase(marker, args.end());
  }
  std::reverse(args.begin(), args.end());  // CLI11 takes its arguments in reverse order
  try {
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    usage_error(fmt::format("{}. Run 'guardian --help' (or 'guardian run --help') for usage.", e.what()));
    return exit_code::guardian_failed;
  }

  try {
    if (config_keys->parsed()) return list_config_keys(keys_json);
    if (config_show->parsed()) return show_config(load_config(config_path, show_flags), show_json);
    if (run->parsed()) {
      std::vector<std::string> command = has_marker ? command_after_marker : run->remaining();
      if (has_marker && !run->remaining().empty()) {
        usage_error(fmt::format("unexpected '{}' before '--'. Put guardian's options before '--' and the "
                                "command after it.", run->remaining().front()));
        return exit_code::guardian_failed;
      }
      if (command.empty()) {
        usage_error("no command given. Usage: guardian run [options] -- COMMAND [ARGS...]");
        return exit_code::guardian_failed;
      }
      auto config = load_config(config_path, run_flags);
      supervise::Supervisor supervisor(supervise::RunOptions::from_config(config, std::move(command)), config);
      return supervisor.run();
    }
  } catch (const config::ConfigError& e) {
    usage_error(fmt::format("{} Nothing was started.", e.what()));
    return exit_code::guardian_failed;
  }
  return exit_code::guardian_failed;
}

}  // namespace guardian::cli
