#pragma once
// pidfds: handles to processes that cannot be confused with a later process that
// reuses the pid, so signals and waits never hit the wrong process.
#include <sys/types.h>

#include <system_error>

#include "guardian/process/unique_fd.hpp"

namespace guardian::process {

/// pidfd_open(2); an empty fd with `error` set (ESRCH: already gone).
UniqueFd open_pidfd(pid_t pid, std::error_code& error);
/// Whether this system lets guardian open pidfds at all: empty, or pidfd_open's error
/// (ENOSYS: Linux older than 5.3; EPERM: a seccomp profile that blocks it, as Docker's
/// default did before 20.10). Checked once before a run starts anything.
std::error_code pidfd_support();
/// pidfd_send_signal(2). ESRCH means the process has already exited.
std::error_code send_signal(const UniqueFd& pidfd, int signo);

}  // namespace guardian::process
