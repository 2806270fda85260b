#pragma once
// What guardian knows about uvicorn: how to recognise it in a server's command, that
// `--reload` runs a reloader parent with a worker child (the worker can die while the
// reloader lives on, so only the health check notices), and how to stop it gracefully.
#include <string>
#include <string_view>
#include <vector>

namespace guardian::adapters::uvicorn {

/// The command runs uvicorn: `uvicorn …`, `python -m uvicorn …`, also inside `sh -c '…'`.
bool is_uvicorn(const std::vector<std::string>& argv);
/// It runs with `--reload` (reloader parent + worker child).
bool uses_reload(const std::vector<std::string>& argv);
/// The signals of a graceful stop, in order, before SIGKILL: SIGINT is uvicorn's own
/// graceful shutdown (the reloader then stops its worker), SIGTERM the fallback.
std::vector<int> stop_signals();
/// Whether the first stop signal goes to the root process only: with `--reload` the
/// reloader answers SIGINT by terminating its worker itself; signalling the worker too
/// makes it see SIGINT and SIGTERM, which uvicorn takes as a forced, ungraceful exit.
bool signal_root_first(const std::vector<std::string>& argv);
/// The reloader announces a reload ("StatReload detected changes in 'app.py'. Reloading...",
/// "WatchFiles detected changes in …"; WARNING level, shown unless --log-level error): the
/// worker is replaced, and until the new one answers the port accepts and nobody answers.
bool announces_reload(std::string_view line);
/// A line for messages about a down server (empty when nothing specific applies).
std::string down_hint(const std::vector<std::string>& argv);

}  // namespace guardian::adapters::uvicorn
