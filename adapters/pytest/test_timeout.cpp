#include "adapters/pytest/test_timeout.hpp"

#include <csignal>

#include <fmt/format.h>

#include "guardian/config/quantity.hpp"
#include "guardian/process/proc_tree.hpp"
#include "guardian/context/run_context.hpp"

namespace guardian::adapters::pytest {

TestTimeout::TestTimeout(context::RunContext& context, std::chrono::milliseconds timeout,
                         const TestRunTracker& tracker, OnExpired on_expired)
    : context_(context), timeout_(timeout), tracker_(tracker), on_expired_(std::move(on_expired)) {}

void TestTimeout::started(const RunningTest& test) {
  auto& timer = timers_[test.pid];
  if (!timer) timer = std::make_unique<boost::asio::steady_timer>(context_.io);
  timer->expires_after(timeout_);
  timer->async_wait([this, test](const boost::system::error_code& error) {
    if (!error) expire(test);
  });
}

void TestTimeout::finished(pid_t pid) {
  if (auto it = timers_.find(pid); it != timers_.end()) it->second->cancel();
}

void TestTimeout::expire(const RunningTest& test) {
  auto it = tracker_.running().find(test.pid);
  if (fired_ || it == tracker_.running().end() || it->second.nodeid != test.nodeid) return;
  // Under xdist the hung test has a worker of its own: only that worker has to go.
  const bool worker_only = !test.worker.empty();
  if (!worker_only) fired_ = true;
  const std::string limit = config::format_duration(timeout_);
  bool dumped = tracker_.can_dump_stacks(test.pid) && ::kill(test.pid, SIGUSR2) == 0;
  std::string message =
      worker_only
          ? fmt::format("test {} ran longer than {} (--test-timeout){}; stopping xdist worker {} (pid {}) and every "
                        "process it started; the run goes on", test.nodeid, limit,
                        dumped ? ": its Python stacks are on stderr above" : "", test.worker, test.pid)
          : fmt::format("test {} ran longer than {} (--test-timeout){}; stopping the run and every process it started",
                        test.nodeid, limit, dumped ? ": its Python stacks are on stderr above" : "");
  context_.console.error(message);
  context_.log.warning("tests", "test.timeout", message,
                       {{"nodeid", test.nodeid}, {"pid", test.pid}, {"timeout_ms", timeout_.count()},
                        {"stack_dump", dumped}, {"scope", worker_only ? "worker" : "run"}});
  alerts::AlertSpec spec;
  spec.type = alerts::AlertType::test_timeout;
  spec.subject = test.nodeid;
  spec.title = fmt::format("test timed out after {}: {}", limit, test.nodeid);
  spec.message = message;
  spec.source = "pytest";
  spec.context = {{"nodeid", test.nodeid}, {"pid", test.pid}, {"timeout_ms", timeout_.count()},
                  {"scope", worker_only ? "worker" : "run"}};
  if (!test.worker.empty()) spec.context["worker"] = test.worker;
  context_.alerts.raise(std::move(spec));
  // Let faulthandler write before the tree (or the worker) is stopped.
  auto& timer = timers_[test.pid];
  timer->expires_after(dumped ? kDumpGrace : std::chrono::milliseconds(0));
  timer->async_wait([this, test, worker_only](const boost::system::error_code&) {
    if (!worker_only) {
      on_expired_(test);
      return;
    }
    std::size_t killed = stop_worker(test);
    ++workers_stopped_;
    if (on_worker_stopped_) on_worker_stopped_(test, killed);
  });
}

// SIGKILL to the worker and everything below it, listed before the first signal so that no
// child is missed by being reparented (to guardian, the subreaper) when its parent dies.
// Something that left the worker's subtree (setsid and double fork) is swept at the end of
// the run with the rest of the tree.
std::size_t TestTimeout::stop_worker(const RunningTest& test) {
  process::ProcFs proc;
  std::vector<pid_t> victims = proc.descendants(test.pid);
  victims.insert(victims.begin(), test.pid);
  std::size_t killed = 0;
  for (pid_t pid : victims)
    if (::kill(pid, SIGKILL) == 0) ++killed;
  context_.log.info("tests", "worker.stopped",
                    fmt::format("xdist worker {} (pid {}) and {} process(es) below it killed", test.worker, test.pid,
                                victims.size() - 1),
                    {{"worker", test.worker}, {"pid", test.pid}, {"processes", killed}, {"nodeid", test.nodeid}});
  return killed;
}

}  // namespace guardian::adapters::pytest
