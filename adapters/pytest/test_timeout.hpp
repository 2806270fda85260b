#pragma once
// TestTimeout: the per-test timeout (--test-timeout). One timer per test process; when a
// test outlives it, asks that Python process for its stacks (faulthandler on SIGUSR2,
// registered by the plugin), raises TEST_TIMEOUT naming the test, then lets the caller
// stop the run's tree so the test's subprocesses go with it.
#include <sys/types.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "adapters/pytest/test_run_tracker.hpp"

namespace guardian::supervise {
struct RunContext;
}

namespace guardian::adapters::pytest {

class TestTimeout {
 public:
  using OnExpired = std::function<void(const RunningTest& test)>;
  // Time between the stack-dump request and stopping the tree: faulthandler writes at once.
  static constexpr std::chrono::milliseconds kDumpGrace{500};

  TestTimeout(supervise::RunContext& context, std::chrono::milliseconds timeout, const TestRunTracker& tracker,
              OnExpired on_expired);
  void started(const RunningTest& test);
  void finished(pid_t pid);
  bool fired() const { return fired_; }

 private:
  void expire(const RunningTest& test);

  supervise::RunContext& context_;
  std::chrono::milliseconds timeout_;
  const TestRunTracker& tracker_;
  OnExpired on_expired_;
  std::map<pid_t, std::unique_ptr<boost::asio::steady_timer>> timers_;
  bool fired_ = false;
};

}  // namespace guardian::adapters::pytest
