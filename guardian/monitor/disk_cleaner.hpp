#pragma once
// Disk clean-up: when a watched filesystem passes its warning threshold, delete what the
// user declared disposable (".pytest_cache", a tmp dir) — the contents of a disposable
// directory, or a disposable file — and nothing else: symlinks are removed, never followed.
#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace guardian::monitor {

struct CleanupResult {
  std::uint64_t bytes_freed = 0;      // blocks of files whose last link was removed
  std::uint64_t entries_removed = 0;  // files, links and directories removed
  std::vector<std::string> cleaned;   // the disposable paths that had something to remove
  std::vector<std::string> errors;    // "removing …/x: Permission denied"
};

/// Cleans every disposable path that lies on `device` (every one when empty).
CleanupResult clean_disposable(const std::vector<std::filesystem::path>& disposable, std::optional<dev_t> device);

/// The device of the filesystem holding `path`.
std::optional<dev_t> device_of(const std::filesystem::path& path);

/// Why `path` must not be declared disposable (the filesystem root, the working directory or
/// one of its parents, the home directory); empty when it may.
std::optional<std::string> unsafe_disposable(const std::filesystem::path& path, const std::filesystem::path& working_dir);

}  // namespace guardian::monitor
