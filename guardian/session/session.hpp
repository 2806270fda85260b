#pragma once
// The session core that `guardian run` and `guardian serve` share, written once: one event
// loop; the run directory, event log and report; the alert bus; the sentinel and the orphan
// reaper; the stop signals; the plugins; the progressive monitor and its protector watching
// the whole tree (the command and every server); the dev servers. `run` adds its command
// and the command's adapters (MainCommand); `serve` adds nothing but its servers.
#include <vector>

#include "guardian/config/config.hpp"
#include "guardian/context/run_options.hpp"
#include "guardian/servers/server_spec.hpp"

namespace guardian::session {

/// `guardian run`: options.command, beside the [servers.*] of the configuration (started
/// first and waited for until healthy). Returns guardian's exit code (the command's).
int run_command(const config::Config& config, context::RunOptions options);

/// `guardian serve`: `servers` until SIGINT/SIGTERM/SIGHUP (exit 0 once they stopped),
/// until one gives up (125) or until every server ended for good by its restart policy
/// (the first one's exit code).
int serve(const config::Config& config, std::vector<servers::ServerSpec> servers);

}  // namespace guardian::session
