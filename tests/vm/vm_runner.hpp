// Runs one scenario script inside the cgroup2 VM (../shared/cgroup2-vm/vm-run) with
// guardian and the test helper copied in, and returns everything it printed.
#pragma once

#include <cstdio>
#include <string>

namespace guardian::testing {

struct VmRun {
  std::string output;  // stdout and stderr of the VM run, interleaved
  int status = -1;     // pclose status (-1: vm-run could not be started)
};

inline VmRun run_scenario_in_vm(const std::string& scenario, int timeout_seconds) {
  const std::string command = std::string(CG2VM_RUN) + " --timeout " + std::to_string(timeout_seconds) +
                              " --mem 512M --cpus 2 --copy " + GUARDIAN_BIN + " --copy " + GUARDIAN_TARGET_BIN +
                              " --copy " + scenario + " -- /bin/sh " + scenario + " " + GUARDIAN_BIN + " " +
                              GUARDIAN_TARGET_BIN + " 2>&1";
  VmRun run;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return run;
  char buffer[4096];
  std::size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) run.output.append(buffer, n);
  run.status = ::pclose(pipe);
  return run;
}

}  // namespace guardian::testing
