#pragma once
// A /proc file read again and again (host CPU, memory, pressure): kept open and re-read from
// the start with pread. The kernel generates the text on every read, so nothing is stale,
// and the path lookup, open and close — most of the cost of a small /proc read — happen once.
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "guardian/process/unique_fd.hpp"

namespace guardian::monitor {

class KeptOpenFile {
 public:
  explicit KeptOpenFile(std::string path) : path_(std::move(path)) {}

  /// The file's text, up to the buffer's size; empty when it cannot be opened or read
  /// (tried again next time: a file can appear, e.g. a PSI file after a kernel setting).
  std::optional<std::string_view> read(std::span<char> buffer);

  const std::string& path() const { return path_; }

 private:
  std::string path_;
  process::UniqueFd fd_;
};

}  // namespace guardian::monitor
