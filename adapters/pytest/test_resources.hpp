#pragma once
// TestResourceMeter: what each test cost — the CPU time and the resident peak of the tree of
// the process that reported the test (the pytest process, or its xdist worker) — read from
// /proc when the test's start and finish events arrive.
#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "adapters/pytest/test_run_tracker.hpp"
#include "guardian/process/proc_tree.hpp"

namespace guardian::adapters::pytest {

// One reading of a reporting process's tree (the process and its live descendants).
struct TreeReading {
  std::uint64_t cpu_usec = 0;        // utime + stime + the waited-for children's, summed
  std::uint64_t peak_rss_bytes = 0;  // VmHWM summed
  std::uint64_t rss_bytes = 0;       // VmRSS summed
  bool peak_reset = false;           // the peaks were reset right after this reading
};

// Pure: what a test used between the reading at its start and the one at its end. With the
// peaks reset at the start, the end's VmHWM is the test's peak. Without (clear_refs refused),
// a VmHWM that rose during the test is still the test's; one that did not says only that the
// test stayed under an earlier peak, so the larger resident size seen is used (approximate).
TestUsage usage_between(const TreeReading& start, const TreeReading& end);

class TestResourceMeter {
 public:
  // `marker`: the run's environment entry ("GUARDIAN_RUN_ID=<id>"); a pid named by an event
  // is measured (and its peaks reset) only if it carries it. Empty: every pid.
  explicit TestResourceMeter(std::string marker = {}, process::ProcFs proc = process::ProcFs())
      : marker_(std::move(marker)), proc_(std::move(proc)) {}

  // A test started in `pid`: reads its tree, then resets the tree's resident peaks.
  void started(pid_t pid);
  // The test in `pid` finished: what it used since started(), none if its start was not seen
  // or the process is gone.
  std::optional<TestUsage> finished(pid_t pid);
  void forget(pid_t pid) { starts_.erase(pid); }

  std::optional<TreeReading> read(pid_t pid) const;

 private:
  std::string marker_;
  process::ProcFs proc_;
  std::map<pid_t, TreeReading> starts_;
};

}  // namespace guardian::adapters::pytest
