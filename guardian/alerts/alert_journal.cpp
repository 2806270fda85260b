#include "guardian/alerts/alert_journal.hpp"

#include <cerrno>
#include <fcntl.h>
#include <string>
#include <unistd.h>

namespace guardian::alerts {

AlertJournal::~AlertJournal() {
  if (fd_ >= 0) ::close(fd_);
}

std::error_code AlertJournal::open(const std::filesystem::path& path) {
  std::error_code ec;
  if (path.has_parent_path()) {
    std::filesystem::create_directories(path.parent_path(), ec);
    if (ec) return ec;
  }
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return {errno, std::generic_category()};
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
  path_ = path;
  return {};
}

std::error_code AlertJournal::append(std::string_view line) {
  if (fd_ < 0) return std::make_error_code(std::errc::bad_file_descriptor);
  std::string buffer;
  buffer.reserve(line.size() + 1);
  buffer.append(line);
  buffer.push_back('\n');
  const char* data = buffer.data();
  std::size_t left = buffer.size();
  // One write(2) in practice; the loop only matters on a full disk or an interrupted
  // write, where a partial line is unavoidable anyway.
  while (left > 0) {
    const ssize_t n = ::write(fd_, data, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return {errno, std::generic_category()};
    }
    data += n;
    left -= static_cast<std::size_t>(n);
  }
  return {};
}

}  // namespace guardian::alerts
