#include "guardian/process/read_small_file.hpp"

#include <fcntl.h>
#include <unistd.h>

namespace guardian::process {

std::string read_small_file(const std::string& path, bool* ok) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (ok) *ok = fd >= 0;
  if (fd < 0) return {};
  std::string out;
  char buffer[4096];
  while (true) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && ok) *ok = false;
    if (n <= 0) break;
    out.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

}  // namespace guardian::process
