#pragma once
// TestTimeout: the per-test timeout (--test-timeout). One timer per test process; when a
// test outlives it, asks that Python process for its stacks (faulthandler on SIGUSR2,
// registered by the plugin), raises TEST_TIMEOUT naming the test, then lets the caller
// stop the run's tree so the test's subprocesses go with it — or, under pytest-xdist, stops
// only the hung worker and its subprocesses: xdist replaces the worker and the run goes on.
#include <sys/types.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "adapters/pytest/test_run_tracker.hpp"

namespace guardian::context {
struct RunContext;
}

namespace guardian::adapters::pytest {

class TestTimeout {
 public:
  using OnExpired = std::function<void(const RunningTest& test)>;
  // After a hung xdist worker was killed: how many processes (worker included) got SIGKILL.
  using OnWorkerStopped = std::function<void(const RunningTest& test, std::size_t processes)>;
  // Time between the stack-dump request and stopping the tree: faulthandler writes at once.
  static constexpr std::chrono::milliseconds kDumpGrace{500};

  TestTimeout(context::RunContext& context, std::chrono::milliseconds timeout, const TestRunTracker& tracker,
              OnExpired on_expired);
  void started(const RunningTest& test);
  void finished(pid_t pid);
  // The run was stopped by a timeout (not only a worker).
  bool fired() const { return fired_; }
  void on_worker_stopped(OnWorkerStopped callback) { on_worker_stopped_ = std::move(callback); }
  std::size_t workers_stopped() const { return workers_stopped_; }

 private:
  void expire(const RunningTest& test);
  std::size_t stop_worker(const RunningTest& test);

  context::RunContext& context_;
  std::chrono::milliseconds timeout_;
  const TestRunTracker& tracker_;
  OnExpired on_expired_;
  std::map<pid_t, std::unique_ptr<boost::asio::steady_timer>> timers_;
  bool fired_ = false;
  OnWorkerStopped on_worker_stopped_;
  std::size_t workers_stopped_ = 0;
};

}  // namespace guardian::adapters::pytest
