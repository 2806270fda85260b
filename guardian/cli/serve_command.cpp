// `guardian serve [--name NAME] [--health URL] -- COMMAND [ARGS...]`, or `guardian serve`
// alone for the [servers.NAME] tables of guardian.toml.
#include <fmt/format.h>
#include <memory>

#include "guardian/cli/subcommand.hpp"
#include "guardian/process/exit_status.hpp"
#include "guardian/servers/server_spec.hpp"
#include "guardian/session/session.hpp"

namespace guardian::cli {

namespace {

struct ServeOptions {
  std::string name = "server";
  std::string health;
};

}  // namespace

Subcommand add_serve_command(CLI::App& app, GlobalOptions& global) {
  auto* serve = app.add_subcommand(
      "serve",
      "Supervise a dev server until Ctrl-C: health checks, restarts with growing startup timeouts, a circuit "
      "breaker. guardian serve --health URL -- COMMAND [ARGS...], or guardian serve for the [servers.NAME] "
      "tables of guardian.toml");
  auto flags = std::make_shared<SchemaFlags>();
  flags->add_to(*serve);
  auto options = std::make_shared<ServeOptions>();
  serve->add_option("--config", global.config_path, "Read settings from this TOML file")->option_text("PATH");
  serve->add_option("--name", options->name,
                    "Name of the server given after -- (its settings are [servers.NAME]) [default: server]")
      ->option_text("NAME");
  serve->add_option("--health", options->health,
                    "Health check of the server given after --: http://HOST:PORT/PATH, tcp://HOST:PORT or exec:COMMAND")
      ->option_text("URL");
  serve->prefix_command();
  serve->allow_extras();
  return {serve, [serve, flags, options, &global] {
            auto config = load_config(global, *flags);
            std::vector<servers::ServerSpec> specs;
            bool has_command = global.has_command_marker || !serve->remaining().empty();
            if (has_command) {
              auto command = command_to_supervise(global, *serve);
              if (!command) return process::exit_code::guardian_failed;
              if (!options->health.empty())
                config.set(fmt::format("servers.{}.health", options->name), options->health,
                           config::Origin{config::Origin::Layer::flag, "health"});
              specs.push_back(servers::ServerSpec::from_config(config, options->name, *command));
            } else {
              if (!options->health.empty())
                throw config::ConfigError(
                    "--health applies to the server given after '--'; for the servers of guardian.toml set "
                    "servers.NAME.health there.");
              specs = servers::ServerSpec::all_from_config(config);
              if (specs.empty())
                throw config::ConfigError(
                    "nothing to serve: give a command (guardian serve --health http://127.0.0.1:8000/health -- "
                    "uvicorn app:app) or add a [servers.NAME] table with a command to guardian.toml.");
            }
            return session::serve(config, std::move(specs));
          }};
}

}  // namespace guardian::cli
