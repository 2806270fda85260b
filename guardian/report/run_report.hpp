#pragma once
// The run report (report.json): what ran, how it ended, what it used, and how it was
// enforced — plus sections that other components add (alerts, servers, tests).
#include <sys/types.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "guardian/report/clock.hpp"

namespace guardian::report {

struct RunReport {
  std::string run_id;
  std::vector<std::string> command;
  std::string working_dir;
  std::string mode;
  WallTime started_at{};
  WallTime ended_at{};
  int exit_code = 0;            // guardian's own exit code
  std::string outcome;          // exited | signaled | timed_out | not_found | not_executable | failed_to_start
  std::optional<int> child_exit_code;
  std::optional<int> signal;    // the command's fatal signal
  bool timed_out = false;
  std::optional<std::string> stop_reason;  // "timeout", "signal SIGTERM", …
  std::optional<std::string> killed_by;    // "timeout", "memory_ceiling", …
  bool escalated_to_kill = false;
  std::uint64_t peak_memory_bytes = 0;
  std::uint64_t cpu_time_ms = 0;
  std::uint64_t user_cpu_ms = 0;
  std::uint64_t system_cpu_ms = 0;
  std::uint64_t processes_observed = 0;
  std::uint64_t leftover_processes_killed = 0;
  nlohmann::json enforcement = nlohmann::json::object();
  nlohmann::json sections = nlohmann::json::object();  // added by other components

  nlohmann::json to_json() const;
  /// Writes atomically (temp file + rename). Returns false with `error` on failure.
  /// Writes atomically (temp file, rename), the file created with `file_mode` (private by default).
  bool write(const std::filesystem::path& path, std::string& error, mode_t file_mode = 0600) const;
  /// The one human line at the end.
  std::string summary_line(const std::filesystem::path& report_path) const;
};

/// Why the report cannot be written at `path` (a directory, a missing or unwritable parent),
/// with what to do; empty if it can. For --report, checked before the run starts.
std::optional<std::string> report_path_problem(const std::filesystem::path& path);

}  // namespace guardian::report
