#include "guardian/cli/subcommand.hpp"

#include <fmt/format.h>

#include "adapters/ci/ci_environment.hpp"

namespace guardian::cli {

config::Config load_config(const GlobalOptions& global, const SchemaFlags& flags) {
  config::Sources sources;
  if (global.config_path) sources.explicit_file = *global.config_path;
  sources.environment = config::guardian_environment();
  sources.flags = flags.given();
  auto config = config::Config::load(sources);
  adapters::ci::apply_ci_defaults(config);  // under CI, mode test unless the user chose (adapters/ci)
  return config;
}

std::optional<std::vector<std::string>> command_to_supervise(const GlobalOptions& global,
                                                             const CLI::App& command_app) {
  auto before_marker = command_app.remaining();
  if (global.has_command_marker && !before_marker.empty()) {
    fmt::print(stderr, "guardian: unexpected '{}' before '--'. Put guardian's options before '--' and the "
                       "command after it.\n", before_marker.front());
    return std::nullopt;
  }
  auto command = global.has_command_marker ? global.command_after_marker : before_marker;
  if (command.empty()) {
    fmt::print(stderr, "guardian: no command given. Usage: guardian {} [options] -- COMMAND [ARGS...]\n",
               command_app.get_name());
    return std::nullopt;
  }
  return command;
}

}  // namespace guardian::cli
