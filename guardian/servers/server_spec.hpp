#pragma once
// Everything about one dev server that the configuration decides: its command, health
// check, probe settings, startup schedule, restart policy, breaker and how to stop it.
#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "guardian/config/config.hpp"
#include "guardian/health/probe_result.hpp"
#include "guardian/health/probe_target.hpp"
#include "guardian/health/server_lifecycle.hpp"

namespace guardian::servers {

struct ServerSpec {
  std::string name;
  std::vector<std::string> argv;  // argv[0] as typed; {"/bin/sh", "-c", COMMAND} for config commands
  std::filesystem::path program;  // resolved argv[0]
  std::string command_text;       // for messages and the report
  std::optional<health::ProbeTarget> probe;  // none: only the process is watched
  health::StatusSet healthy_statuses;
  std::optional<std::chrono::milliseconds> pinned_probe_interval;
  std::chrono::milliseconds probe_timeout{1000};
  health::SlowThresholds slow;
  health::LifecycleSettings lifecycle;
  std::vector<int> stop_signals;  // a graceful stop, in order; SIGKILL after the last
  bool signal_root_first = false; // the first stop signal to the root process only (uvicorn --reload)
  std::chrono::milliseconds stop_grace{5000};
  std::filesystem::path working_dir;  // empty: guardian's
  bool uvicorn = false;

  /// The server `name` from [servers.NAME]; `argv` replaces servers.NAME.command when given
  /// (`guardian serve -- COMMAND`). Throws config::ConfigError naming the key and the fix.
  static ServerSpec from_config(const config::Config& config, const std::string& name,
                                std::optional<std::vector<std::string>> argv = std::nullopt);
  /// Every [servers.NAME] of the configuration, by name.
  static std::vector<ServerSpec> all_from_config(const config::Config& config);
};

}  // namespace guardian::servers
