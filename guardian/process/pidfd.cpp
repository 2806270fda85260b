#include "guardian/process/pidfd.hpp"

#include <cerrno>
#include <sys/syscall.h>
#include <unistd.h>

namespace guardian::process {

UniqueFd open_pidfd(pid_t pid, std::error_code& error) {
  int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0) {
    error.assign(errno, std::system_category());
    return UniqueFd{};
  }
  error.clear();
  return UniqueFd{fd};
}

std::error_code pidfd_support() {
  std::error_code error;
  const UniqueFd own = open_pidfd(::getpid(), error);
  return error;
}

std::error_code send_signal(const UniqueFd& pidfd, int signo) {
  if (::syscall(SYS_pidfd_send_signal, pidfd.get(), signo, nullptr, 0) != 0)
    return {errno, std::system_category()};
  return {};
}

}  // namespace guardian::process
