#pragma once
// Keeping the runs directory tidy: out of git (a .gitignore written into the directory
// guardian created, as pytest does for its cache) and no more than `keep` run directories.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace guardian::report {

// Creates `runs_dir` with its missing parents; the outermost directory it had to create (or an
// existing parent named ".guardian" without one) gets a .gitignore holding "*". Throws
// std::system_error naming the path when the directory cannot be made.
void create_runs_dir(const std::filesystem::path& runs_dir);

// The run directories in `runs_dir` (names shaped like a run id), oldest first.
std::vector<std::filesystem::path> list_run_dirs(const std::filesystem::path& runs_dir);

// Removes the oldest run directories until `keep` remain (0: keep all); never `current`.
// Returns how many were removed; a directory that cannot be removed is skipped.
std::size_t prune_runs(const std::filesystem::path& runs_dir, std::uint64_t keep,
                       const std::filesystem::path& current);

}  // namespace guardian::report
