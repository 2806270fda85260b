#include "adapters/pytest/pytest_adapter.hpp"

#include <fcntl.h>

#include <algorithm>

#include <fmt/format.h>

#include "guardian/config/install_layout.hpp"
#include "guardian/config/quantity.hpp"
#include "guardian/context/run_context.hpp"
#include "guardian/report/run_history.hpp"

namespace guardian::adapters::pytest {
namespace fs = std::filesystem;

void add_plugin_environment(std::vector<std::string>& environment, const fs::path& socket_path,
                            const fs::path& plugin_directory) {
  auto find = [&](std::string_view name) {
    return std::find_if(environment.begin(), environment.end(), [&](const std::string& entry) {
      return entry.size() > name.size() && entry.compare(0, name.size(), name) == 0 && entry[name.size()] == '=';
    });
  };
  auto extend = [&](std::string_view name, const std::string& value, bool prepend, std::string_view separator) {
    auto it = find(name);
    if (it == environment.end() || it->size() == name.size() + 1) {
      if (it != environment.end()) environment.erase(it);
      environment.push_back(fmt::format("{}={}", name, value));
      return;
    }
    std::string old = it->substr(name.size() + 1);
    *it = prepend ? fmt::format("{}={}{}{}", name, value, separator, old)
                  : fmt::format("{}={}{}{}", name, old, separator, value);
  };
  // Prepended: our module must win over any other guardian_pytest on the path.
  extend("PYTHONPATH", plugin_directory.string(), true, ":");
  // Appended: the user's own options keep their order and meaning.
  extend("PYTEST_ADDOPTS", "-p guardian_pytest", false, " ");
  if (auto it = find(kSocketVariable); it != environment.end()) environment.erase(it);
  environment.push_back(fmt::format("{}={}", kSocketVariable, socket_path.string()));
}

PytestAdapter::PytestAdapter(context::RunContext& context)
    : context_(context),
      socket_(context.io),
      meter_("GUARDIAN_RUN_ID=" + context.run_id),
      failure_alerts_(context.alerts, "pytest"),
      live_(context, tracker_) {
  enabled_ = !context_.config.boolean("adapters.pytest.disabled");
  if (enabled_) plugin_dir_ = config::pytest_adapter_directory();
  socket_path_ = context_.run_dir / "events.sock";
  // sun_path holds 107 bytes: a deep run directory falls back to /tmp.
  if (socket_path_.string().size() > 100)
    socket_path_ = fs::temp_directory_path() / fmt::format("guardian-{}.sock", context_.run_id);
  if (auto limit = context_.config.duration("tests.timeout"); limit && limit->count() > 0) {
    // A stopped test never reports its end: it is recorded here as failed by the timeout
    // (TEST_TIMEOUT was raised already, so no TEST_FAILED on top).
    auto record_timed_out = [this, limit = *limit](const RunningTest& test, const std::string& what_stopped) {
      tracker_.consume({{"event", "test_finish"}, {"pid", test.pid}, {"worker", test.worker}, {"nodeid", test.nodeid},
                        {"outcome", "failed"},
                        {"duration_s", std::chrono::duration<double>(TestRunTracker::Clock::now() - test.started).count()},
                        {"text", fmt::format("timed out after {} (--test-timeout): {} was stopped",
                                             config::format_duration(limit), what_stopped)}},
                       TestRunTracker::Clock::now(), meter_.finished(test.pid));
    };
    timeout_.emplace(context_, *limit, tracker_, [this, record_timed_out](const RunningTest& test) {
      record_timed_out(test, "the run");
      if (on_timeout_) on_timeout_(test);
    });
    timeout_->on_worker_stopped([record_timed_out](const RunningTest& test, std::size_t) {
      record_timed_out(test, "xdist worker " + test.worker);
    });
  }
}

bool names_pytest(const std::vector<std::string>& command) {
  return std::any_of(command.begin(), command.end(), [](const std::string& word) {
    const std::string name = fs::path(word).filename().string();
    return name.find("pytest") != std::string::npos || name.find("py.test") != std::string::npos;
  });
}

PytestAdapter::~PytestAdapter() {
  boost::system::error_code ignored;
  socket_.close(ignored);
  std::error_code error;
  if (!socket_path_.empty()) fs::remove(socket_path_, error);
}

std::error_code PytestAdapter::start() {
  if (!enabled_) {
    context_.log.info("tests", "pytest.disabled",
                      "pytest plugin not injected (adapters.pytest.disabled / --no-pytest-plugin)");
    return {};
  }
  if (!plugin_dir_) {
    // Injecting "-p guardian_pytest" without the module would make pytest fail to start.
    std::string looked;
    for (const auto& path : config::pytest_adapter_candidates()) looked += (looked.empty() ? "" : ", ") + path.string();
    const std::string message = fmt::format(
        "pytest plugin not injected: guardian_pytest.py is not installed (looked in {}); pytest runs without "
        "test events — reinstall guardian, or pass --no-pytest-plugin to silence this",
        looked);
    // On the console only when the command names pytest: any other run would carry a
    // warning about a tool it does not use (the event log always has it).
    if (names_pytest(context_.options.command)) context_.console.info(message);
    context_.log.warning("tests", "pytest.plugin_missing", message);
    return {};
  }
  boost::system::error_code error;
  std::error_code fs_error;
  fs::remove(socket_path_, fs_error);
  socket_.open(boost::asio::local::datagram_protocol(), error);
  // Asio opens sockets without SOCK_CLOEXEC: the command must not inherit guardian's end.
  if (!error) ::fcntl(socket_.native_handle(), F_SETFD, FD_CLOEXEC);
  if (!error) socket_.bind(boost::asio::local::datagram_protocol::endpoint(socket_path_.string()), error);
  if (error) {
    context_.log.warning("tests", "events.unavailable",
                         fmt::format("cannot listen for test events on {}: {}; the run goes on without them",
                                     socket_path_.string(), error.message()));
    return error;
  }
  receive();
  return {};
}

void PytestAdapter::add_environment(std::vector<std::string>& environment) const {
  if (!injected()) return;  // the command's environment stays exactly as it was
  add_plugin_environment(environment, socket_path_, *plugin_dir_);
}

void PytestAdapter::receive() {
  socket_.async_receive(boost::asio::buffer(buffer_.get(), kBufferSize), [this](const boost::system::error_code& error, std::size_t size) {
    if (error == boost::asio::error::operation_aborted || finished_) return;
    if (!error) handle(std::string_view(buffer_.get(), size));
    receive();
  });
}

void PytestAdapter::handle(std::string_view datagram) {
  auto event = nlohmann::json::parse(datagram, nullptr, false);
  if (event.is_discarded()) {
    context_.log.warning("tests", "event.malformed", "a test event was not JSON; ignored");
    return;
  }
  const std::string kind = event.is_object() && event.contains("event") && event["event"].is_string()
                               ? event["event"].get<std::string>()
                               : std::string();
  const pid_t pid = event.is_object() && event.contains("pid") && event["pid"].is_number_integer()
                        ? event["pid"].get<pid_t>()
                        : 0;
  // What the finished test cost, read before anything else runs in its process's tree.
  std::optional<TestUsage> usage;
  if (kind == "test_finish" && pid > 0) usage = meter_.finished(pid);
  auto effect = tracker_.consume(event, TestRunTracker::Clock::now(), usage);
  if (effect.ignored) return;
  live_.changed();
  if (kind == "test_start") {
    // Read the reporting process's tree and reset its resident peaks as early as possible:
    // what the test uses before this moment is counted to nothing.
    if (pid > 0) meter_.started(pid);
    if (timeout_) {
      auto it = tracker_.running().find(pid);
      if (it != tracker_.running().end()) timeout_->started(it->second);
    }
    if (on_test_started_) {
      auto it = tracker_.running().find(pid);
      if (it != tracker_.running().end()) on_test_started_(it->second);
    }
  } else if (kind == "test_finish" || kind == "session_finish") {
    if (kind == "session_finish") meter_.forget(pid);
    if (timeout_) timeout_->finished(pid);
    if (on_test_finished_) on_test_finished_(pid);
  }
  if (kind == "session_start" || kind == "session_finish")
    context_.log.info("tests", "pytest." + kind, kind == "session_start" ? "pytest session started" : "pytest session finished",
                      event);
  if (effect.collection_error) {
    context_.log.warning("tests", "collection.error", fmt::format("collection error in {}", *effect.collection_error),
                         event);
  }
  if (effect.failure) {
    const auto& failure = *effect.failure;
    context_.log.warning("tests", "test.failed", fmt::format("{} {}", failure.nodeid, failure.outcome), event);
    failure_alerts_.failed(failure);
  }
}

void PytestAdapter::finish() {
  if (finished_) return;
  // The loop has stopped: read what the plugin sent just before the end.
  boost::system::error_code error;
  socket_.non_blocking(true, error);
  while (!error) {
    std::size_t size = socket_.receive(boost::asio::buffer(buffer_.get(), kBufferSize), 0, error);
    if (!error) handle(std::string_view(buffer_.get(), size));
  }
  finished_ = true;
  failure_alerts_.finish(tracker_.failures());
  if (tracker_.seen_any()) {
    auto section = tracker_.report_section();
    section["revision"] = report::git_revision(fs::current_path());  // the code tested (guardian runs tests)
    context_.report.sections["tests"] = std::move(section);
  }
  live_.flush();  // the plugins' last word on the tests before run_finished
}

}  // namespace guardian::adapters::pytest
