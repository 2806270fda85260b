#include "guardian/cli/cli_main.hpp"

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <fmt/format.h>

#include "guardian/cli/subcommand.hpp"
#include "guardian/config/config.hpp"
#include "guardian/plugins/plugin_host_process.hpp"
#include "guardian/process/exit_status.hpp"
#include "guardian/process/launch.hpp"

namespace guardian::cli {

int main(int argc, char** argv) {
  // The plugin host role (plugins/plugin_host_process.hpp): first, before anything of the
  // supervisor's runs in this process.
  if (argc == 4 && argv[1] == plugins::plugin_host_role)
    return plugins::run_plugin_host_process(std::atoi(argv[2]), static_cast<pid_t>(std::atol(argv[3])));
  // Before anything changes a disposition: children get back exactly what guardian got.
  process::capture_inherited_state();
  process::raise_open_file_limit();
  ::signal(SIGPIPE, SIG_IGN);  // a closed socket or pipe is an error to handle, not a death

  CLI::App app{"guardian — supervise test runs and development servers", "guardian"};
  app.set_version_flag("--version", std::string("guardian ") + GUARDIAN_VERSION);
  app.require_subcommand(1);
  GlobalOptions global;
  app.add_option("--config", global.config_path, "Read settings from this TOML file instead of ./guardian.toml")
      ->option_text("PATH");

  // Every subcommand, once. Each lives in its own <name>_command.cpp.
  std::vector<Subcommand> subcommands = {
      add_run_command(app, global),
      add_config_command(app, global),
      add_doctor_command(app, global),
      add_serve_command(app, global),
      add_plugins_command(app, global),
  };

  // The command after "--" is never parsed as guardian's options (CLI11 would hand "--"
  // back to the parent app); without "--", prefix_command stops at the command's first word.
  std::vector<std::string> args(argv + 1, argv + argc);
  if (auto marker = std::find(args.begin(), args.end(), "--"); marker != args.end()) {
    global.has_command_marker = true;
    global.command_after_marker.assign(marker + 1, args.end());
    args.erase(marker, args.end());
  }
  std::reverse(args.begin(), args.end());  // CLI11 takes its arguments in reverse order
  try {
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    fmt::print(stderr, "guardian: {}. Run 'guardian --help' (or 'guardian <command> --help') for usage.\n", e.what());
    return process::exit_code::guardian_failed;
  }

  try {
    for (const auto& subcommand : subcommands)
      if (subcommand.app->parsed()) return subcommand.run();
  } catch (const config::ConfigError& e) {
    fmt::print(stderr, "guardian: {} Nothing was started.\n", e.what());
    return process::exit_code::guardian_failed;
  }
  return process::exit_code::guardian_failed;
}

}  // namespace guardian::cli
