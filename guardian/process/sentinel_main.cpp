// guardian-sentinel: the sentinel as a small static executable of its own (sentinel.hpp says
// what it is for). guardian starts it with posix_spawn, its order pipe as fd 3:
//   guardian-sentinel MARKER_ENTRY
// Starting it costs an exec of a ~1 MB static program, where a fork of guardian copied its
// page tables and made guardian fault on every page it wrote afterwards (issue 17).
#include <cstdio>
#include <string>

#include "guardian/process/sentinel_duty.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr,
                 "guardian-sentinel: guardian's helper, not a command to run by hand\n"
                 "usage: guardian-sentinel MARKER_ENTRY (orders on fd 3)\n");
    return 2;
  }
  guardian::process::run_sentinel(3, argv[1]);
}
