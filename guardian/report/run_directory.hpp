#pragma once
// A run's identity and directory: <runs_dir>/<run-id>/ holding events.jsonl, report.json
// and whatever components add (alerts.jsonl, …).
#include <cstdint>
#include <filesystem>
#include <string>

namespace guardian::report {

struct RunDirectory {
  std::string run_id;           // "20261122T205400Z-3f9a1c"
  std::filesystem::path path;   // absolute

  /// Creates a fresh directory under `runs_dir` (made if missing, with a .gitignore: see
  /// create_runs_dir), then removes the oldest runs beyond `keep` (0: none). Throws
  /// std::system_error naming the path on failure.
  static RunDirectory create(const std::filesystem::path& runs_dir, std::uint64_t keep = 0);
};

}  // namespace guardian::report
