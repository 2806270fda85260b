// Helpers for the monitor's integration tests: scaled-down settings in a guardian.toml,
// reading events while guardian runs, and what /proc says about a process.
#pragma once

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "harness.hpp"

namespace guardian::testing::monitor {

/// Monitor settings scaled down for tests (200 ms checks at NORMAL, 100 ms above, 1 s
/// reports, 1 s calm period), with `monitor_keys` added to the [monitor] table, followed
/// by `extra` TOML.
void write_config(const fs::path& dir, const std::string& extra, const std::string& monitor_keys = "");

/// {"run", flags..., "--", "/bin/sh", "-c", script}.
std::vector<std::string> run_shell(std::vector<std::string> flags, const std::string& script);

/// The events of the one run under `dir` so far (empty while the run directory does not exist).
std::vector<Json> events_so_far(const fs::path& dir);
/// Polls the events until one satisfies `match` or the timeout passes.
std::optional<Json> wait_for_event(const fs::path& dir, const std::function<bool(const Json&)>& match,
                                   std::chrono::milliseconds timeout);
/// Events named `name` ("level.changed") among `events`.
std::vector<Json> named(const std::vector<Json>& events, const std::string& name);

/// Polls until a live process carrying `marker` has a command line starting with `prefix`.
std::optional<MarkedProcess> wait_for_process(const std::string& marker, const std::string& prefix,
                                              std::chrono::milliseconds timeout);

/// Field 19 of /proc/<pid>/stat; empty when the process is gone.
std::optional<int> nice_of(pid_t pid);
/// The IO priority class (ioprio_get): 0 none, 1 realtime, 2 best-effort, 3 idle.
std::optional<int> io_class_of(pid_t pid);

/// What /proc says about the processes carrying `marker`, summed.
struct ProcTotals {
  std::uint64_t processes = 0;
  std::uint64_t threads = 0;
  std::uint64_t rss_bytes = 0;
  std::uint64_t open_fds = 0;
};
/// Only processes whose command line starts with `program` (guardian itself carries the marker too).
ProcTotals proc_totals(const std::string& marker, const std::string& program);

}  // namespace guardian::testing::monitor
