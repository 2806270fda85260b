// `guardian run [options] -- COMMAND [ARGS...]`
#include <memory>

#include "guardian/cli/server_flags.hpp"
#include "guardian/cli/subcommand.hpp"
#include "guardian/process/exit_status.hpp"
#include "guardian/servers/server_spec.hpp"
#include "guardian/context/run_options.hpp"
#include "guardian/session/session.hpp"

namespace guardian::cli {

Subcommand add_run_command(CLI::App& app, GlobalOptions& global) {
  auto* run = app.add_subcommand("run", "Run a command under supervision: guardian run [options] -- COMMAND [ARGS...]");
  auto flags = std::make_shared<SchemaFlags>();
  flags->add_to(*run);
  auto servers = std::make_shared<ServerFlags>();
  servers->add_to(*run);
  run->add_option("--config", global.config_path, "Read settings from this TOML file")->option_text("PATH");
  // Everything from the command on (after "--", or from the first word that is not an
  // option) belongs to the command, its options included.
  run->prefix_command();
  run->allow_extras();
  return {run, [run, flags, servers, &global] {
            auto command = command_to_supervise(global, *run);
            if (!command) return process::exit_code::guardian_failed;
            auto config = load_config(global, *flags);
            servers->apply_to(config);
            servers::ServerSpec::all_from_config(config);  // a bad [servers.*] fails here, before anything starts
            return session::run_command(config, context::RunOptions::from_config(config, std::move(*command)));
          }};
}

}  // namespace guardian::cli
