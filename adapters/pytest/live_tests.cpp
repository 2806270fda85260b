#include "adapters/pytest/live_tests.hpp"

#include "guardian/context/run_context.hpp"

namespace guardian::adapters::pytest {

LiveTests::LiveTests(context::RunContext& context, const TestRunTracker& tracker, std::chrono::milliseconds interval)
    : context_(context), tracker_(tracker), interval_(interval), timer_(context.io) {}

void LiveTests::changed() {
  if (!context_.observe || pending_ || flushed_) return;
  pending_ = true;
  timer_.expires_after(interval_);
  timer_.async_wait([this, alive = std::weak_ptr<bool>(alive_)](const boost::system::error_code& error) {
    if (error || alive.expired() || flushed_) return;
    pending_ = false;
    publish();
  });
}

void LiveTests::flush() {
  if (flushed_) return;
  flushed_ = true;
  pending_ = false;
  timer_.cancel();
  if (tracker_.seen_any()) publish();
}

void LiveTests::publish() {
  if (context_.observe) context_.observe("tests", {{"tests", tracker_.live_section()}});
}

}  // namespace guardian::adapters::pytest
