#pragma once
// Starting one of guardian's own helper processes: guardian's executable re-executed in a
// hidden role (`guardian __plugin-host 3 <pid>`). Unlike launch.hpp's supervised commands
// (Boost.Process, fork, the terminal, the limiter, the descriptors guardian inherited), a
// helper gets nothing of the user's command: one channel descriptor as fd 3, stdin from
// /dev/null, stdout and stderr as guardian's, its own process group (the terminal's Ctrl-C
// is the supervisor's to handle), an empty signal mask and default dispositions.
//
// posix_spawn (clone with CLONE_VM|CLONE_VFORK in glibc): no copy of the supervisor's page
// tables, and no code of ours between fork and exec, so it is safe from a process that
// already runs threads (a restart from a channel thread). Every descriptor guardian opens is
// close-on-exec; the helper also closes all but fd 3 first thing, whatever slipped through.
#include <sys/types.h>

#include <string>
#include <vector>

#include "guardian/process/unique_fd.hpp"

namespace guardian::process {

/// The descriptor a helper finds its channel on.
inline constexpr int helper_channel_fd = 3;

struct HelperSpec {
  std::string program;            // guardian's executable, e.g. /proc/self/exe
  std::vector<std::string> argv;  // argv[0] included
  int channel_fd = -1;            // becomes helper_channel_fd in the helper; the caller keeps it
};

struct StartedHelper {
  pid_t pid = -1;
  UniqueFd pidfd;  // empty if pidfd_open failed (the pid still names the helper: we are its parent)
};

/// Starts the helper. On failure (pid -1) `error` says why ("No such file or directory").
StartedHelper start_helper(const HelperSpec& spec, std::string& error);

}  // namespace guardian::process
