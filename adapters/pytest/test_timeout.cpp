#include "adapters/pytest/test_timeout.hpp"

#include <csignal>

#include <fmt/format.h>

#include "guardian/config/quantity.hpp"
#include "guardian/supervise/run_context.hpp"

namespace guardian::adapters::pytest {

TestTimeout::TestTimeout(supervise::RunContext& context, std::chrono::milliseconds timeout,
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
  fired_ = true;
  const std::string limit = config::format_duration(timeout_);
  bool dumped = tracker_.can_dump_stacks(test.pid) && ::kill(test.pid, SIGUSR2) == 0;
  std::string message = fmt::format("test {} ran longer than {} (--test-timeout){}; stopping the run and every "
                                    "process it started", test.nodeid, limit,
                                    dumped ? ": its Python stacks are on stderr above" : "");
  context_.console.error(message);
  context_.log.warning("tests", "test.timeout", message,
                       {{"nodeid", test.nodeid}, {"pid", test.pid}, {"timeout_ms", timeout_.count()},
                        {"stack_dump", dumped}});
  alerts::AlertSpec spec;
  spec.type = alerts::AlertType::test_timeout;
  spec.subject = test.nodeid;
  spec.title = fmt::format("test timed out after {}: {}", limit, test.nodeid);
  spec.message = message;
  spec.source = "pytest";
  spec.context = {{"nodeid", test.nodeid}, {"pid", test.pid}, {"timeout_ms", timeout_.count()}};
  if (!test.worker.empty()) spec.context["worker"] = test.worker;
  context_.alerts.raise(std::move(spec));
  // Let faulthandler write before the tree is stopped.
  auto& timer = timers_[test.pid];
  timer->expires_after(dumped ? kDumpGrace : std::chrono::milliseconds(0));
  timer->async_wait([this, test](const boost::system::error_code&) { on_expired_(test); });
}

}  // namespace guardian::adapters::pytest
