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
namespace {

using AddSubcommand = Subcommand (*)(CLI::App&, GlobalOptions&);

// The subcommand the command line names: its first word that is neither an option nor the
// value of the one global option that takes one (--config PATH); nothing after "--".
std::optional<std::string_view> named_subcommand(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view word = argv[i];
    if (word == "--") return std::nullopt;
    if (word == "--config") {
      ++i;
      continue;
    }
    if (!word.starts_with("-")) return word;
  }
  return std::nullopt;
}

}  // namespace

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

  // Every subcommand, once. Each lives in its own <name>_command.cpp. Building one costs:
  // run, serve, config and doctor each add the whole settings schema as flags, and CLI11
  // checks every new option against the ones before it, so building all of them was most
  // of a `guardian run`'s own instructions before the command started (issue 17). A command
  // line that names one subcommand gets only that one; anything else (no subcommand,
  // --help, a misspelt name) gets all, so help and "did you mean" are unchanged.
  const std::vector<std::pair<std::string_view, AddSubcommand>> every_subcommand = {
      {"run", add_run_command},         {"config", add_config_command}, {"doctor", add_doctor_command},
      {"serve", add_serve_command},     {"plugins", add_plugins_command}, {"runs", add_runs_command},
      {"__generate", add_generate_command},  // prints the man page and completions: it reads them all
  };
  const std::optional<std::string_view> named = named_subcommand(argc, argv);
  std::vector<Subcommand> subcommands;
  for (const auto& [name, add] : every_subcommand)
    if (!named || *named == name || *named == "__generate") subcommands.push_back(add(app, global));
  if (subcommands.empty())  // a word that is no subcommand: all of them, for CLI11's error
    for (const auto& [name, add] : every_subcommand) subcommands.push_back(add(app, global));

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
