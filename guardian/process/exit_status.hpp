#pragma once
// How a process ended, and the shell-style exit code guardian passes on for it.
#include <optional>
#include <string>

namespace guardian::process {

/// Exit codes of guardian itself (like coreutils `timeout` and shells).
namespace exit_code {
inline constexpr int timed_out = 124;
inline constexpr int guardian_failed = 125;
inline constexpr int not_executable = 126;
inline constexpr int not_found = 127;
inline constexpr int signal_base = 128;
}  // namespace exit_code

struct ExitStatus {
  enum class Kind { exited, signaled };
  Kind kind = Kind::exited;
  int code = 0;    // exit code when exited
  int signal = 0;  // signal number when signaled
  bool core_dumped = false;

  /// From a waitpid() status word.
  static ExitStatus from_wait_status(int status);
  /// The code a shell would report: code, or 128+signal.
  int shell_code() const;
  /// "exited with 3", "killed by SIGKILL", "killed by SIGSEGV (core dumped)".
  std::string describe() const;
};

/// "SIGTERM" for 15; "SIG42" for signals without a name.
std::string signal_name(int signo);
/// 15 for "SIGTERM", "TERM" or "15"; nullopt when unknown.
std::optional<int> signal_number(const std::string& name);

}  // namespace guardian::process
