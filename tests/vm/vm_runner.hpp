// Runs one scenario script inside the bare cgroup v2 VM (tests/vm/bare/bare-vm) with guardian,
// its sentinel (at the same place, so guardian finds it beside itself) and the test helper
// copied in (the helper also onto the VM's ext4 disk, /disk), and returns
// everything it printed.
#pragma once

#include <cstdio>
#include <string>

namespace guardian::testing {

struct VmRun {
  std::string output;  // stdout and stderr of the VM run, interleaved
  int status = -1;     // pclose status (-1: bare-vm could not be started)
};

// util-linux's unshare(1) (essential on Debian): busybox's has no --cgroup.
inline constexpr const char* kUnshare = "/usr/bin/unshare";

inline VmRun run_scenario_in_vm(const std::string& scenario, int timeout_seconds) {
  const std::string command = std::string(BARE_VM) + " --timeout " + std::to_string(timeout_seconds) +
                              " --mem 512M --cpus 2 --copy " + GUARDIAN_BIN + " --copy " + GUARDIAN_SENTINEL_BIN +
                              " --copy " + GUARDIAN_TARGET_BIN +
                              " --disk-copy " + GUARDIAN_TARGET_BIN + " --copy " + scenario + " --copy " + kUnshare +
                              " -- /bin/sh " + scenario + " " + GUARDIAN_BIN + " " + GUARDIAN_TARGET_BIN + " " +
                              kUnshare + " 2>&1";
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
