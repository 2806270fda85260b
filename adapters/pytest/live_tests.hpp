#pragma once
// LiveTests: keeps the plugins told about the tests while the run goes on (the dashboard's
// tests panel: counts, slowest, heaviest), as "tests" observations of the tracker's live
// section. Coalesced: a burst of finished tests becomes one observation per interval, so a
// suite of thousands of quick tests does not flood the plugin channel.
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>

#include "adapters/pytest/test_run_tracker.hpp"

namespace guardian::context {
struct RunContext;
}

namespace guardian::adapters::pytest {

class LiveTests {
 public:
  static constexpr std::chrono::milliseconds kInterval{250};

  LiveTests(context::RunContext& context, const TestRunTracker& tracker,
            std::chrono::milliseconds interval = kInterval);
  // The tracker changed: an observation follows within the interval (nothing without plugins).
  void changed();
  // At the end of the run: the final state at once; nothing is sent after it.
  void flush();

 private:
  void publish();

  context::RunContext& context_;
  const TestRunTracker& tracker_;
  std::chrono::milliseconds interval_;
  boost::asio::steady_timer timer_;
  bool pending_ = false;
  bool flushed_ = false;
  // A timer handler already queued when this object goes must not touch it.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace guardian::adapters::pytest
