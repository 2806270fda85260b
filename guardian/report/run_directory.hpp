#pragma once
// A run's identity and directory: <runs_dir>/<run-id>/ holding events.jsonl, report.json
// and whatever components add (alerts.jsonl, …).
#include <sys/types.h>

#include <filesystem>
#include <string>

namespace guardian::report {

/// Who may read a run's files. They hold the full command line, which often carries secrets
/// (--password, tokens in URLs): private by default; `run.shared_files` widens them.
inline constexpr mode_t kPrivateDirMode = 0700, kPrivateFileMode = 0600;
inline constexpr mode_t kSharedDirMode = 0755, kSharedFileMode = 0644;

struct RunDirectory {
  std::string run_id;           // "20261122T205400Z-3f9a1c"
  std::filesystem::path path;   // absolute
  mode_t file_mode = kPrivateFileMode;  // for the files written into it (events.jsonl, report.json)

  /// Creates a fresh directory under `runs_dir` (made if missing), 0700 (0755 when `shared`).
  /// Throws std::system_error naming the path on failure.
  static RunDirectory create(const std::filesystem::path& runs_dir, bool shared = false);
};

}  // namespace guardian::report
