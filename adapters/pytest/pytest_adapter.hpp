#pragma once
// PytestAdapter: guardian's side of the pytest plugin — a Unix datagram socket on the run's
// event loop receiving the plugin's JSON events, the environment that makes the plugin
// load in the child, TEST_FAILED alerts, the running test, what each test cost (CPU, resident
// peak) and the report's "tests" section.
#include <sys/types.h>

#include <array>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include <boost/asio/local/datagram_protocol.hpp>
#include <nlohmann/json.hpp>

#include "adapters/pytest/failure_alerts.hpp"
#include "adapters/pytest/live_tests.hpp"
#include "adapters/pytest/test_resources.hpp"
#include "adapters/pytest/test_run_tracker.hpp"
#include "adapters/pytest/test_timeout.hpp"

namespace guardian::context {
struct RunContext;
}

namespace guardian::adapters::pytest {

inline constexpr const char* kSocketVariable = "GUARDIAN_EVENTS_SOCKET";

// Adds the plugin dir to PYTHONPATH, "-p guardian_pytest" to PYTEST_ADDOPTS (appended to any
// value already there) and the socket path, to a KEY=VALUE environment.
void add_plugin_environment(std::vector<std::string>& environment, const std::filesystem::path& socket_path,
                            const std::filesystem::path& plugin_directory);

// True when a word of the command is pytest (`pytest`, `py.test`, `python -m pytest`, a path
// to either): whether a missing adapter is worth a line on the console.
bool names_pytest(const std::vector<std::string>& command);

class PytestAdapter {
 public:
  explicit PytestAdapter(context::RunContext& context);
  ~PytestAdapter();
  PytestAdapter(const PytestAdapter&) = delete;
  PytestAdapter& operator=(const PytestAdapter&) = delete;

  // Binds the socket and starts receiving; on failure the run goes on without test events.
  // With adapters.pytest.disabled (--no-pytest-plugin) it does nothing.
  std::error_code start();
  // Whether the plugin is injected into the command's environment (not disabled, and
  // guardian_pytest.py found: config::pytest_adapter_directory()).
  bool injected() const { return enabled_ && plugin_dir_.has_value(); }
  void add_environment(std::vector<std::string>& environment) const;
  // The test running longest now, null when none (servers name it in SERVER_DOWN).
  nlohmann::json running_test() const { return tracker_.running_test(); }
  const TestRunTracker& tracker() const { return tracker_; }
  // Called for every test that starts (the per-test timeout arms its timer here).
  void on_test_started(std::function<void(const RunningTest&)> callback) { on_test_started_ = std::move(callback); }
  void on_test_finished(std::function<void(pid_t)> callback) { on_test_finished_ = std::move(callback); }
  // With tests.timeout (--test-timeout): called once the hung test's stacks were requested;
  // the supervisor stops the run's tree there.
  void on_test_timeout(TestTimeout::OnExpired callback) { on_timeout_ = std::move(callback); }
  bool test_timed_out() const { return timeout_ && timeout_->fired(); }
  // After the tree finished: reads what is still queued, raises the summary alert and
  // writes the report's "tests" section (only if any test event arrived).
  void finish();
  const std::filesystem::path& socket_path() const { return socket_path_; }

 private:
  void receive();
  void handle(std::string_view datagram);

  context::RunContext& context_;
  std::filesystem::path socket_path_;
  boost::asio::local::datagram_protocol::socket socket_;
  // One datagram at a time, up to 256 KiB; not zero-filled (std::vector did, a page fault per
  // 4 KiB at every run's start, pytest or not): the kernel writes only what a datagram holds.
  static constexpr std::size_t kBufferSize = 256 * 1024;
  std::unique_ptr<char[]> buffer_ = std::make_unique_for_overwrite<char[]>(kBufferSize);
  TestRunTracker tracker_;
  TestResourceMeter meter_;  // each test's CPU time and resident peak
  FailureAlerts failure_alerts_;
  LiveTests live_;  // the tests section for the plugins while the run goes on
  bool enabled_ = true;
  std::optional<std::filesystem::path> plugin_dir_;  // where guardian_pytest.py is; none: not injected
  std::function<void(const RunningTest&)> on_test_started_;
  std::function<void(pid_t)> on_test_finished_;
  bool finished_ = false;
  TestTimeout::OnExpired on_timeout_;
  std::optional<TestTimeout> timeout_;
};

}  // namespace guardian::adapters::pytest
