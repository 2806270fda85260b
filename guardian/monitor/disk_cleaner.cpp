#include "guardian/monitor/disk_cleaner.hpp"

#include <sys/stat.h>

#include <cstdlib>
#include <fmt/format.h>

namespace guardian::monitor {
namespace fs = std::filesystem;
namespace {

// Removes `path` (not following symlinks) and everything below it; adds to `result`.
void remove_tree(const fs::path& path, CleanupResult& result) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return;
  if (S_ISDIR(st.st_mode)) {
    std::error_code error;
    std::vector<fs::path> children;
    for (fs::directory_iterator it(path, error), end; !error && it != end; it.increment(error))
      children.push_back(it->path());
    if (error) result.errors.push_back(fmt::format("listing {}: {}", path.string(), error.message()));
    for (const auto& child : children) remove_tree(child, result);
  }
  std::error_code error;
  if (fs::remove(path, error)) {
    ++result.entries_removed;
    if (S_ISREG(st.st_mode) && st.st_nlink <= 1) result.bytes_freed += static_cast<std::uint64_t>(st.st_blocks) * 512;
  } else if (error) {
    result.errors.push_back(fmt::format("removing {}: {}", path.string(), error.message()));
  }
}

std::string normal_dir(const fs::path& path) {
  std::string text = path.lexically_normal().string();
  while (text.size() > 1 && text.back() == '/') text.pop_back();
  return text == "/" ? text : text + "/";
}

bool is_same_or_parent(const fs::path& maybe_parent, const fs::path& path) {
  return normal_dir(path).starts_with(normal_dir(maybe_parent));
}

}  // namespace

std::optional<dev_t> device_of(const fs::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  return st.st_dev;
}

CleanupResult clean_disposable(const std::vector<fs::path>& disposable, std::optional<dev_t> device) {
  CleanupResult result;
  for (const auto& path : disposable) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) continue;  // nothing there: nothing to free
    if (device && st.st_dev != *device) continue;   // another filesystem: freeing it would not help
    std::uint64_t before = result.entries_removed;
    if (S_ISDIR(st.st_mode)) {
      // The directory itself stays: the tool that owns it may expect it to exist.
      std::error_code error;
      std::vector<fs::path> children;
      for (fs::directory_iterator it(path, error), end; !error && it != end; it.increment(error))
        children.push_back(it->path());
      if (error) result.errors.push_back(fmt::format("listing {}: {}", path.string(), error.message()));
      for (const auto& child : children) remove_tree(child, result);
    } else {
      remove_tree(path, result);
    }
    if (result.entries_removed > before) result.cleaned.push_back(path.string());
  }
  return result;
}

std::optional<std::string> unsafe_disposable(const fs::path& path, const fs::path& working_dir) {
  if (path.empty()) return "an empty path";
  auto absolute = path.is_absolute() ? path : working_dir / path;
  absolute = absolute.lexically_normal();
  if (absolute == absolute.root_path()) return "the filesystem root";
  if (is_same_or_parent(absolute, working_dir))
    return fmt::format("the working directory {} or one of its parents", working_dir.string());
  if (const char* home = std::getenv("HOME"); home && *home && is_same_or_parent(absolute, fs::path(home)))
    return "your home directory or one of its parents";
  return std::nullopt;
}

}  // namespace guardian::monitor
