#pragma once
// `guardian serve`: supervise dev servers on their own (no main command) until Ctrl-C,
// with restarts, growing startup timeouts and the circuit breaker; a run directory,
// event log, alerts and report like `guardian run`.
#include <vector>

#include "guardian/config/config.hpp"
#include "guardian/servers/server_spec.hpp"

namespace guardian::servers {

/// Serves until SIGINT/SIGTERM/SIGHUP (exit 0 once the servers stopped), until a server
/// gives up (exit 125) or until every server ended for good by its restart policy (its
/// exit code). Returns guardian's exit code.
int serve(const config::Config& config, std::vector<ServerSpec> specs);

}  // namespace guardian::servers
