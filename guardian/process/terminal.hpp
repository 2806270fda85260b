#pragma once
// The controlling terminal, when guardian runs in its foreground: the command's group is
// given the foreground (so Ctrl-C and job control reach it as if run directly) and
// guardian takes it back at the end.
#include <sys/types.h>

#include <optional>

namespace guardian::process {

class ForegroundTerminal {
 public:
  /// The terminal on stdin, if guardian's group is its foreground group now.
  static std::optional<ForegroundTerminal> detect();

  int fd() const { return fd_; }
  void give_to(pid_t pgid) const;
  void take_back() const;

 private:
  int fd_ = -1;
  pid_t own_pgid_ = -1;
};

}  // namespace guardian::process
