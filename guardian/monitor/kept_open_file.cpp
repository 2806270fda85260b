#include "guardian/monitor/kept_open_file.hpp"

#include <fcntl.h>
#include <unistd.h>

namespace guardian::monitor {

std::optional<std::string_view> KeptOpenFile::read(std::span<char> buffer) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!fd_) fd_.reset(::open(path_.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd_) return std::nullopt;
    const ssize_t n = ::pread(fd_.get(), buffer.data(), buffer.size(), 0);
    if (n > 0) return std::string_view(buffer.data(), static_cast<std::size_t>(n));
    fd_.reset();  // open afresh once: the file may have been replaced (a fixture, a remount)
  }
  return std::nullopt;
}

}  // namespace guardian::monitor
