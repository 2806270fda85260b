#pragma once
// The Supervisor runs one `guardian run`: it owns the event loop and everything on it
// (the command, the orphan reaper, signals, timers, the sampler) and turns what happens
// into the event log, the run report and guardian's exit code.
#include "guardian/config/config.hpp"
#include "guardian/context/run_options.hpp"

namespace guardian::session {

class Supervisor {
 public:
  Supervisor(context::RunOptions options, const config::Config& config);
  /// Runs to the end; returns guardian's exit code (see process::exit_code).
  int run();

 private:
  context::RunOptions options_;
  const config::Config& config_;
};

}  // namespace guardian::session
