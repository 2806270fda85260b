// The pytest plugin's event datagrams (one JSON object each, from a process guardian runs):
// each line of the input is one datagram, parsed and folded into the run's test state the
// way PytestAdapter::handle does, then the report's "tests" section is written.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "adapters/pytest/test_run_tracker.hpp"

using namespace guardian::adapters::pytest;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  TestRunTracker tracker;
  auto now = TestRunTracker::Clock::time_point{} + std::chrono::hours(1);
  while (!rest.empty()) {
    const auto end = rest.find('\n');
    const auto datagram = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
    const auto event = nlohmann::json::parse(datagram, nullptr, false);
    if (event.is_discarded()) continue;
    now += std::chrono::milliseconds(7);
    (void)tracker.consume(event, now);
    (void)tracker.running_test(now);
  }
  // The run report dumps this section as it is (dump(2), which throws on invalid UTF-8).
  (void)tracker.report_section().dump(2);
  return 0;
}
