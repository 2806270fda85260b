#include "guardian/alerts/alert_journal.hpp"

#include <cerrno>
#include <fcntl.h>
#include <string>
#include <sys/stat.h>
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
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const std::error_code stat_error(errno, std::generic_category());
    ::close(fd);
    return stat_error;
  }
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
  path_ = path;
  size_bytes_ = static_cast<std::uint64_t>(st.st_size);
  return {};
}

std::size_t AlertJournal::max_line_bytes() {
  static const std::size_t page = [] {
    const long size = ::sysconf(_SC_PAGESIZE);
    return size > 0 ? static_cast<std::size_t>(size) : std::size_t{4096};
  }();
  return page - 1;
}

namespace {

std::error_code write_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return {errno, std::generic_category()};
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return {};
}

}  // namespace

std::error_code AlertJournal::append(std::string_view line) {
  if (fd_ < 0) return std::make_error_code(std::errc::bad_file_descriptor);
  const std::size_t page = max_line_bytes() + 1;
  const std::size_t record = line.size() + 1;
  if (record > page) return std::make_error_code(std::errc::message_size);
  const std::size_t room = page - static_cast<std::size_t>(size_bytes_ % page);
  if (record > room) {
    const std::string pad(room, ' ');
    if (auto ec = write_all(fd_, pad.data(), pad.size())) return ec;
    size_bytes_ += room;
  }
  std::string buffer;
  buffer.reserve(record);
  buffer.append(line);
  buffer.push_back('\n');
  if (auto ec = write_all(fd_, buffer.data(), buffer.size())) return ec;
  size_bytes_ += record;
  return {};
}

}  // namespace guardian::alerts
