#include "guardian/process/exit_status.hpp"

#include <csignal>
#include <cstring>
#include <fmt/format.h>
#include <sys/wait.h>

namespace guardian::process {

ExitStatus ExitStatus::from_wait_status(int status) {
  ExitStatus out;
  if (WIFSIGNALED(status)) {
    out.kind = Kind::signaled;
    out.signal = WTERMSIG(status);
    out.core_dumped = WCOREDUMP(status);
  } else {
    out.code = WEXITSTATUS(status);
  }
  return out;
}

int ExitStatus::shell_code() const {
  return kind == Kind::signaled ? exit_code::signal_base + signal : code;
}

std::string ExitStatus::describe() const {
  if (kind == Kind::exited) return fmt::format("exited with {}", code);
  return fmt::format("killed by {}{}", signal_name(signal), core_dumped ? " (core dumped)" : "");
}

std::string signal_name(int signo) {
  if (const char* abbrev = sigabbrev_np(signo)) return fmt::format("SIG{}", abbrev);
  return fmt::format("SIG{}", signo);
}

std::optional<int> signal_number(const std::string& name) {
  std::string bare = name.starts_with("SIG") ? name.substr(3) : name;
  if (!bare.empty() && bare.find_first_not_of("0123456789") == std::string::npos) {
    int n = std::stoi(bare);
    if (n > 0 && n < NSIG) return n;
    return std::nullopt;
  }
  for (int n = 1; n < NSIG; ++n)
    if (const char* abbrev = sigabbrev_np(n); abbrev && bare == abbrev) return n;
  return std::nullopt;
}

}  // namespace guardian::process
