#include "guardian/process/helper_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>

#include <cstring>
#include <system_error>

#include "guardian/process/pidfd.hpp"

extern char** environ;

namespace guardian::process {

StartedHelper start_helper(const HelperSpec& spec, std::string& error) {
  // dup2(3, 3) is a no-op that keeps close-on-exec: a channel already on fd 3 moves first.
  UniqueFd moved;
  int channel = spec.channel_fd;
  if (channel == helper_channel_fd) {
    moved.reset(::fcntl(channel, F_DUPFD_CLOEXEC, helper_channel_fd + 1));
    channel = moved.get();
  }
  std::vector<char*> argv;
  for (const auto& arg : spec.argv) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attributes;
  ::posix_spawn_file_actions_init(&actions);
  ::posix_spawn_file_actions_adddup2(&actions, channel, helper_channel_fd);
  ::posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  ::posix_spawnattr_init(&attributes);
  sigset_t none;
  sigset_t all;
  sigemptyset(&none);
  sigfillset(&all);
  ::posix_spawnattr_setsigmask(&attributes, &none);    // guardian blocks signals it waits for
  ::posix_spawnattr_setsigdefault(&attributes, &all);  // and ignores SIGPIPE, SIGTTOU
  ::posix_spawnattr_setpgroup(&attributes, 0);
  ::posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
  StartedHelper started;
  const int rc = ::posix_spawn(&started.pid, spec.program.c_str(), &actions, &attributes, argv.data(), environ);
  ::posix_spawn_file_actions_destroy(&actions);
  ::posix_spawnattr_destroy(&attributes);
  if (rc != 0) {
    error = std::strerror(rc);
    started.pid = -1;
    return started;
  }
  std::error_code pidfd_error;
  started.pidfd = open_pidfd(started.pid, pidfd_error);
  return started;
}

}  // namespace guardian::process
