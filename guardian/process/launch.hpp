#pragma once
// Starting a supervised command (vfork + execve; a Boost.Process v2 process handle) with
// guardian's own pre-exec steps: a new process group, the terminal's foreground, death with guardian
// (PR_SET_PDEATHSIG, checked against the race at start), placement under the
// limiter (e.g. into its cgroup) before the first instruction of the command.
#include <sys/types.h>

#include <boost/asio/io_context.hpp>
#include <boost/process/v2/process.hpp>
#include <filesystem>
#include <functional>
#include <string>
#include <system_error>
#include <vector>

namespace guardian::process {

using Process = boost::process::v2::process;

struct LaunchSpec {
  std::filesystem::path program;   // resolved path (see find_program)
  std::vector<std::string> argv;   // argv[0] as the user typed it, then the arguments
  std::vector<std::string> environment;  // "NAME=value" entries
  std::filesystem::path working_dir;     // empty: inherit
  int foreground_terminal_fd = -1;       // >= 0: make the new group the terminal's foreground
  /// Runs in the child after fork, before exec; async-signal-safe code only. Returns 0 or an
  /// errno value that makes the launch fail with that error (e.g. joining the cgroup).
  std::function<int()> enter_limits;
  /// >= 0: the child's stdin / stdout / stderr (a pipe guardian reads, /dev/null); -1 inherits
  /// guardian's. The caller keeps ownership of these descriptors.
  int stdin_fd = -1;
  int stdout_fd = -1;
  int stderr_fd = -1;
};

/// Starts the command. On failure `error` holds the child's errno (ENOENT, EACCES, …).
Process launch(boost::asio::io_context& io, const LaunchSpec& spec, std::error_code& error);

/// Captures guardian's inherited signal dispositions, mask and open-file limit once at
/// start-up, so children get them back (guardian itself ignores SIGPIPE and SIGTTOU and
/// raises its open-file limit; the child must not see either).
void capture_inherited_state();

/// Raises guardian's soft RLIMIT_NOFILE towards its hard limit (at most 65 536): samplers
/// keep the tree's /proc files open, and desktops start programs at 1 024. Call after
/// capture_inherited_state(), so children still start with the limit guardian was given.
void raise_open_file_limit();

}  // namespace guardian::process
