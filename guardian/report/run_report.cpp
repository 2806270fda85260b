#include "guardian/report/run_report.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "guardian/config/quantity.hpp"
#include "guardian/process/exit_status.hpp"

namespace guardian::report {

nlohmann::json RunReport::to_json() const {
  auto duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(ended_at - started_at).count();
  nlohmann::json out = {
      {"guardian_version", GUARDIAN_VERSION},
      {"run_id", run_id},
      {"command", command},
      {"working_dir", working_dir},
      {"mode", mode},
      {"started_at", iso8601(started_at)},
      {"ended_at", iso8601(ended_at)},
      {"duration_ms", duration_ms},
      {"exit_code", exit_code},
      {"outcome", outcome},
      {"child_exit_code", child_exit_code ? nlohmann::json(*child_exit_code) : nlohmann::json()},
      {"signal", signal ? nlohmann::json(process::signal_name(*signal)) : nlohmann::json()},
      {"signal_number", signal ? nlohmann::json(*signal) : nlohmann::json()},
      {"timed_out", timed_out},
      {"stop_reason", stop_reason ? nlohmann::json(*stop_reason) : nlohmann::json()},
      {"killed_by", killed_by ? nlohmann::json(*killed_by) : nlohmann::json()},
      {"escalated_to_kill", escalated_to_kill},
      {"resources",
       {{"peak_memory_bytes", peak_memory_bytes},
        {"cpu_time_ms", cpu_time_ms},
        {"user_cpu_ms", user_cpu_ms},
        {"system_cpu_ms", system_cpu_ms},
        {"processes_observed", processes_observed},
        {"leftover_processes_killed", leftover_processes_killed}}},
      {"enforcement", enforcement},
  };
  for (const auto& [key, value] : sections.items()) out[key] = value;
  return out;
}

bool RunReport::write(const std::filesystem::path& path, std::string& error, mode_t file_mode) const {
  std::string text = to_json().dump(2) + "\n";
  auto temp = path;
  temp += fmt::format(".tmp{}", ::getpid());
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, file_mode);
  if (fd < 0) {
    error = fmt::format("writing the report '{}': {}", path.string(), std::strerror(errno));
    return false;
  }
  // Written whole to a temporary file and renamed: a reader never sees half a report. No
  // fsync: it cost 5–25 ms at the end of every run (the user waits for it), and what it
  // guards against — power lost within seconds of the run — loses the events and the alert
  // journal too (neither is synced per line either).
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  if (!ok || std::rename(temp.c_str(), path.c_str()) != 0) {
    error = fmt::format("writing the report '{}': {}", path.string(), std::strerror(errno));
    ::unlink(temp.c_str());
    return false;
  }
  return true;
}

std::optional<std::string> report_path_problem(const std::filesystem::path& path) {
  namespace fs = std::filesystem;
  std::error_code error;
  if (fs::is_directory(path, error))
    return fmt::format("--report '{}' is a directory; give a file path such as {}/report.json", path.string(),
                       path == "/" ? "" : path.string());
  const fs::path parent = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  if (!fs::is_directory(parent, error))
    return fmt::format("--report '{}': the directory '{}' does not exist; create it or choose another path",
                       path.string(), parent.string());
  if (::access(parent.c_str(), W_OK | X_OK) != 0)
    return fmt::format("--report '{}': cannot write in '{}' ({}); choose another path", path.string(),
                       parent.string(), std::strerror(errno));
  return std::nullopt;
}

std::string RunReport::summary_line(const std::filesystem::path& report_path) const {
  auto seconds = std::chrono::duration<double>(ended_at - started_at).count();
  std::string how;
  if (timed_out) how = fmt::format("timed out after {:.1f}s", seconds);
  else if (outcome == "not_found" || outcome == "not_executable" || outcome == "failed_to_start") how = "did not start";
  else if (signal) how = fmt::format("was killed by {} after {:.1f}s", process::signal_name(*signal), seconds);
  else how = fmt::format("exited with {} after {:.1f}s", child_exit_code.value_or(exit_code), seconds);
  std::string killed = killed_by && !timed_out ? fmt::format(" ({})", *killed_by) : "";
  return fmt::format("'{}' {}{} · peak {} · cpu {:.2f}s · exit {} · report {}", fmt::join(command, " "), how,
                     killed, config::format_bytes(peak_memory_bytes), static_cast<double>(cpu_time_ms) / 1000.0,
                     exit_code, report_path.string());
}

}  // namespace guardian::report
