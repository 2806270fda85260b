#include "guardian/config/schema_keys.hpp"

namespace guardian::config {

// Settings of dev servers, probes and restarts: one [servers.NAME] table per server
// (`guardian run --server NAME='COMMAND' --health NAME=URL` fills the first two). The
// defaults of these wildcard keys are applied per server by servers/server_spec.cpp.
void add_server_keys(std::vector<KeySpec>& table) {
  using K = ValueKind;
  table.insert(table.end(), {
      {"servers.*.command", K::string, "", "", "",
       "Shell command that starts the server (run with /bin/sh -c), e.g. "
       "\"/usr/bin/python3 -m uvicorn app:app --port 8000\". Flag: guardian run --server NAME='COMMAND'.", {}},
      {"servers.*.health", K::string, "", "", "",
       "Health check: http://HOST:PORT/PATH (GET), tcp://HOST:PORT (connect) or exec:COMMAND (exit 0). "
       "Unset: only the process is watched. Flag: guardian run --health NAME=URL.", {}},
      {"servers.*.dir", K::path, "", "", "",
       "Working directory of the server (default: guardian's).", {}},
      {"servers.*.probe_interval", K::duration, "", "", "",
       "Time between health checks. Unset: follows the monitor level (NORMAL 5s, INTENSIVE 1s, "
       "CRITICAL 500ms), at most 2s while healthy and 250ms after a failed check; set: pinned.", {}},
      {"servers.*.probe_timeout", K::duration, "1s", "", "",
       "A health check without an answer this long fails (Kubernetes' default too). A failed check is "
       "followed by the next at once, so a hung server is down after unhealthy_after timeouts (3 s).", {}},
      {"servers.*.unhealthy_after", K::integer, "3", "", "",
       "Consecutive failed health checks after which a running server is down (and restarted).", {}},
      {"servers.*.healthy_status", K::string, "200-399", "", "",
       "HTTP statuses that count as healthy: ranges and codes, e.g. \"200-299,304\".", {}},
      {"servers.*.slow_warning", K::duration, "500ms", "", "",
       "A health answer slower than this is a SERVER_SLOW warning.", {}},
      {"servers.*.slow_critical", K::duration, "800ms", "", "",
       "A health answer slower than this is a critical SERVER_SLOW condition.", {}},
      {"servers.*.startup_timeouts", K::duration_list, "90s,120s,180s,240s", "", "",
       "Startup timeout of each attempt (the last one repeats); a start that exceeds it is stopped and "
       "retried with the next. Under `guardian run` the command starts only once every server is healthy, "
       "and a server that fails one attempt per entry before that ends the run (exit 125).", {}},
      {"servers.*.slow_start", K::duration, "30s", "", "",
       "A start slower than this (launch to first healthy answer) is a SERVER_SLOW condition.", {}},
      {"servers.*.restart", K::choice, "always", "", "",
       "When a server that went down is started again: always, on-failure (not after a clean exit 0) "
       "or never.", {"always", "on-failure", "never"}},
      {"servers.*.restart_delay", K::duration, "500ms", "", "",
       "First delay before a restart; it doubles on each restart in a row.", {}},
      {"servers.*.backoff_cap", K::duration, "30s", "", "",
       "Longest delay before a restart.", {}},
      {"servers.*.stable_uptime", K::duration, "60s", "", "",
       "A server healthy this long before going down is restarted with the first delay again; a "
       "flapping server healthy this long is stable again (one SERVER_UP resolves SERVER_FLAPPING).", {}},
      {"servers.*.flap_downs", K::integer, "3", "", "",
       "A server that goes down this many times within flap_window is flapping: one SERVER_FLAPPING "
       "alert instead of a SERVER_DOWN and a SERVER_UP per restart (restarts go on with backoff). "
       "0: never.", {}},
      {"servers.*.flap_window", K::duration, "2m", "", "",
       "The window of flap_downs.", {}},
      {"servers.*.breaker_failures", K::integer, "5", "", "",
       "Circuit breaker: more failed starts than this within breaker_window and guardian gives up on "
       "the server (FATAL; `guardian run` stops the command and exits 125).", {}},
      {"servers.*.breaker_window", K::duration, "10m", "", "",
       "The window of the circuit breaker.", {}},
      {"servers.*.stop_signal", K::choice, "auto", "", "",
       "First signal of a graceful stop (then SIGTERM, then SIGKILL). auto: SIGINT for uvicorn, "
       "else SIGTERM.", {"auto", "SIGINT", "SIGTERM", "SIGQUIT", "SIGHUP", "SIGUSR1", "SIGUSR2"}},
      {"servers.*.stop_grace", K::duration, "5s", "", "",
       "Time given to each stop signal before the next one (the last is SIGKILL).", {}},
  });
}

}  // namespace guardian::config
