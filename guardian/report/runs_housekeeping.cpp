#include "guardian/report/runs_housekeeping.hpp"

#include <algorithm>
#include <fstream>
#include <system_error>
#include <utility>

#include <fmt/format.h>

namespace guardian::report {
namespace fs = std::filesystem;

namespace {

constexpr const char* kGitignore = "# written by guardian: its run records stay out of version control\n*\n";

void write_gitignore(const fs::path& dir) {
  std::error_code error;
  if (fs::exists(dir / ".gitignore", error)) return;
  std::ofstream(dir / ".gitignore") << kGitignore;  // best effort: a read-only parent is no reason to fail
}

// "20261122T205400Z-3f9a1c": RunDirectory's names; nothing else in the directory is touched.
bool looks_like_run_id(const std::string& name) {
  if (name.size() != 23 || name[8] != 'T' || name[15] != 'Z' || name[16] != '-') return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (i == 8 || i == 15 || i == 16) continue;
    const char c = name[i];
    const bool digit = c >= '0' && c <= '9';
    if (i < 15 ? !digit : !(digit || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

void create_runs_dir(const fs::path& runs_dir) {
  std::error_code error;
  const fs::path absolute = fs::absolute(runs_dir, error);
  fs::path outermost_missing;
  for (fs::path dir = absolute; !dir.empty() && !fs::exists(dir, error); dir = dir.parent_path()) {
    outermost_missing = dir;
    if (dir == dir.parent_path()) break;
  }
  fs::create_directories(absolute, error);
  if (error) throw std::system_error(error, fmt::format("creating the runs directory '{}'", runs_dir.string()));
  if (!outermost_missing.empty()) write_gitignore(outermost_missing);
  // A .guardian/ made before guardian wrote its .gitignore.
  if (absolute.parent_path().filename() == ".guardian") write_gitignore(absolute.parent_path());
}

std::vector<fs::path> list_run_dirs(const fs::path& runs_dir) {
  std::vector<fs::path> dirs;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(runs_dir, error)) {
    if (looks_like_run_id(entry.path().filename().string()) && entry.is_directory(error)) dirs.push_back(entry.path());
  }
  // The id starts with the UTC start time in seconds; runs started within the same second are
  // ordered by when their directory last changed (the report is written last). Each key is
  // read once: a stat per comparison was ~800 stats per run start at runs.keep = 50.
  using Key = std::pair<std::string, fs::file_time_type>;
  std::vector<std::pair<Key, fs::path>> keyed;
  keyed.reserve(dirs.size());
  for (auto& dir : dirs) {
    std::error_code ignored;
    Key key{dir.filename().string().substr(0, 16), fs::last_write_time(dir, ignored)};
    keyed.emplace_back(std::move(key), std::move(dir));
  }
  std::sort(keyed.begin(), keyed.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  dirs.clear();
  for (auto& [key, dir] : keyed) dirs.push_back(std::move(dir));
  return dirs;
}

std::size_t prune_runs(const fs::path& runs_dir, std::uint64_t keep, const fs::path& current) {
  if (keep == 0) return 0;
  std::vector<fs::path> older;  // every run but the current one, oldest first
  for (auto& dir : list_run_dirs(runs_dir))  // the current run is runs_dir/<its id>: its name says
    if (dir.filename() != current.filename()) older.push_back(std::move(dir));
  std::size_t removed = 0;
  for (std::size_t i = 0; i + keep - 1 < older.size(); ++i) {  // the current run is one of the `keep`
    std::error_code error;
    if (fs::remove_all(older[i], error) != static_cast<std::uintmax_t>(-1) && !error) ++removed;
  }
  return removed;
}

}  // namespace guardian::report
