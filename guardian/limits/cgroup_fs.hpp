#pragma once
// CgroupFs: every read and write of cgroup files goes through here, relative to one root
// (the cgroup2 mount, or a temp dir of fixture files in unit tests), so errors always name
// the file and the operation. Directories are given relative to the root ("" is the root).
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "guardian/limits/result.hpp"
#include "guardian/process/unique_fd.hpp"

namespace guardian::limits {

class CgroupFs {
 public:
  explicit CgroupFs(std::filesystem::path root);

  const std::filesystem::path& root() const { return root_; }
  /// root/dir/file as a string (dir may start with '/').
  std::string path(std::string_view dir, std::string_view file = {}) const;

  Result<std::string> read(std::string_view dir, std::string_view file) const;
  /// One write(2) of `value`, as the kernel expects for cgroup files.
  Status write(std::string_view dir, std::string_view file, std::string_view value) const;
  bool exists(std::string_view dir, std::string_view file = {}) const;
  /// Whether this process may write the file (access W_OK; the kernel may still say no).
  bool writable(std::string_view dir, std::string_view file = {}) const;
  Status make_dir(std::string_view dir) const;
  Status remove_dir(std::string_view dir) const;
  /// Names of the child cgroups (subdirectories) of `dir`.
  std::vector<std::string> children(std::string_view dir) const;
  /// Opens a file for writing (O_CLOEXEC), e.g. cgroup.procs before a fork.
  Result<process::UniqueFd> open_for_write(std::string_view dir, std::string_view file) const;

 private:
  std::filesystem::path root_;
};

/// "a/b" + "c" -> "a/b/c"; "" + "c" -> "c" (cgroup-relative directory names).
std::string join_dir(std::string_view dir, std::string_view child);

}  // namespace guardian::limits
