// Runs guardian on a fresh pseudo-terminal (as an interactive shell would: session
// leader, terminal in the foreground), so tests can type keys like Ctrl-C at it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <string_view>

#include "harness.hpp"

namespace guardian::testing {

class PtySession {
 public:
  explicit PtySession(const SpawnOptions& options);
  ~PtySession();  // kills and reaps guardian if the test did not wait for it
  PtySession(const PtySession&) = delete;
  PtySession& operator=(const PtySession&) = delete;

  pid_t pid() const { return pid_; }
  // Reads the terminal until its output contains `needle` (true) or the timeout.
  bool wait_for(std::string_view needle, std::chrono::milliseconds timeout);
  // Writes bytes as if typed on the keyboard ("\x03" is Ctrl-C).
  void type(std::string_view bytes);
  // Waits for guardian to end; `out` holds the whole terminal transcript.
  RunResult wait(std::chrono::milliseconds timeout);

 private:
  void pump(int timeout_ms);
  void reap_if_exited();

  pid_t pid_ = -1;
  int master_fd_ = -1;
  bool exited_ = false;
  RunResult result_;
};

}  // namespace guardian::testing
