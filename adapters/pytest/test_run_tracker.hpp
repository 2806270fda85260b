#pragma once
// TestRunTracker: folds the test events of one run (from the pytest plugin, one JSON object
// each) into what guardian knows about the tests: which test each process is running, the
// counts, failures and durations for the report, and which failures deserve an alert.
#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace guardian::adapters::pytest {

// A datagram's fields, read whatever their type: any process of the tree can write to the
// event socket, so a field of the wrong type is a default, never an exception (one escaping
// the event loop would end guardian). Found by the fuzzing campaign ("pid":"").
pid_t event_pid(const nlohmann::json& event);
double event_number(const nlohmann::json& event, const char* key);

// What one test cost (TestResourceMeter): the CPU time of the reporting process's tree while
// it ran, and the tree's resident peak (exact unless the kernel refused the peak's reset).
struct TestUsage {
  double cpu_ms = 0;
  std::uint64_t peak_memory_bytes = 0;
  bool peak_exact = true;
};

struct TestResult {
  std::string nodeid;
  std::string outcome;  // passed, failed, error, skipped, xfailed, xpassed
  double duration_s = 0;
  std::string text;     // short failure text
  std::string worker;   // xdist worker id ("gw0"), empty without xdist
  std::optional<TestUsage> usage;  // none when not measured (process gone, start not seen)
};

struct RunningTest {
  std::string nodeid;
  pid_t pid = 0;
  std::string worker;
  std::chrono::steady_clock::time_point started{};
};

// What one event changed, for the caller to act on (alerts, log).
struct EventEffect {
  std::optional<TestResult> failure;          // a test failed or errored: alert candidate
  std::optional<std::string> collection_error;  // nodeid of a module that did not collect
  bool ignored = false;                       // unknown or malformed event
};

enum class HeavyOrder { memory, cpu };
// The measured tests, costliest first: by resident peak (then CPU) or by CPU (then peak);
// equal costs keep the order the tests ran in. At most `limit`.
std::vector<const TestResult*> heaviest_tests(const std::vector<TestResult>& results, HeavyOrder order,
                                              std::size_t limit = 10);

class TestRunTracker {
 public:
  using Clock = std::chrono::steady_clock;

  // `usage`: what the test cost, for a test_finish event (the adapter measures it).
  EventEffect consume(const nlohmann::json& event, Clock::time_point now = Clock::now(),
                      std::optional<TestUsage> usage = std::nullopt);

  // The test running longest right now (null if none): {"nodeid", "pid", "worker", "running_ms"}.
  nlohmann::json running_test(Clock::time_point now = Clock::now()) const;
  const std::map<pid_t, RunningTest>& running() const { return running_; }
  // Processes that registered the faulthandler stack dump on SIGUSR2.
  bool can_dump_stacks(pid_t pid) const;

  // The report's "tests" section: counts, duration, the 10 slowest, failures, the 10
  // heaviest by resident peak ("heaviest") and by CPU time ("heaviest_cpu").
  nlohmann::json report_section() const;
  // The same without "results" (one entry per test) and with the first kLiveFailures
  // failures only: what the plugins are sent while the run goes on (the dashboard's tests
  // panel), a few times a second at most, so its size must not grow with the suite.
  static constexpr std::size_t kLiveFailures = 100;
  nlohmann::json live_section() const;
  bool seen_any() const { return sessions_ > 0 || !results_.empty(); }
  std::size_t failures() const { return failed_ + errors_; }

 private:
  // Everything but "results", with at most `max_failures` failures.
  nlohmann::json summary_section(std::size_t max_failures) const;

  std::map<pid_t, RunningTest> running_;
  std::map<pid_t, bool> stack_dump_;
  std::vector<TestResult> results_;
  std::vector<nlohmann::json> collection_errors_;
  std::map<std::string, std::size_t> counts_;
  std::size_t failed_ = 0;
  std::size_t errors_ = 0;
  std::size_t sessions_ = 0;
  std::optional<double> session_duration_s_;
  std::optional<int> exit_status_;
  std::set<std::string> workers_;
};

}  // namespace guardian::adapters::pytest
