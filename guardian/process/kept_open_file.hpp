#pragma once
// A /proc or cgroup file read again and again (host CPU and memory, pressure, cpu.stat …):
// kept open and re-read from the start with pread. The kernel generates the text on every
// read, so nothing is stale, and the path lookup, open and close — most of the cost of a
// small read — happen once.
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "guardian/process/unique_fd.hpp"

namespace guardian::process {

/// Reads an open file from its start. The text lands in `buffer` when it fits; a longer one
/// (a pid list can be any length) is read whole into `overflow`. Generated files hand out
/// whole lines, so a read that stops within a line's length of the buffer's end is
/// continued. nullopt when the read fails (for /proc: the process is gone).
std::optional<std::string_view> read_from_start(const UniqueFd& fd, std::span<char> buffer, std::string& overflow);

/// One read from the start of an open file, as much as fits in `buffer` (a /proc/<pid>/stat
/// line, the first lines of /proc/meminfo). nullopt when the read fails.
std::optional<std::string_view> read_start(const UniqueFd& fd, std::span<char> buffer);

class KeptOpenFile {
 public:
  explicit KeptOpenFile(std::string path) : path_(std::move(path)) {}

  /// The file's whole text (see read_from_start); nullopt when it cannot be opened or read
  /// (tried again next time: a file can appear, e.g. a PSI file after a kernel setting).
  std::optional<std::string_view> read(std::span<char> buffer, std::string& overflow);
  /// Only the start of the file, as much as fits in `buffer` (the first lines of
  /// /proc/stat or /proc/meminfo): one read, however long the file.
  std::optional<std::string_view> read_start(std::span<char> buffer);

 private:
  template <typename ReadOnce>
  std::optional<std::string_view> with_reopen(ReadOnce read_once);

  std::string path_;
  UniqueFd fd_;
};

}  // namespace guardian::process
