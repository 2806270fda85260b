#pragma once
// FailureAlerts: the no-storm rule for TEST_FAILED, shared by every source of test results
// (pytest events, JUnit XML): one alert per failing test up to kMaxFailureAlerts, then the
// rest counted and raised once as a summary when the run's results are complete.
#include <cstddef>
#include <string>

#include "adapters/pytest/test_run_tracker.hpp"

namespace guardian::alerts {
class AlertBus;
}

namespace guardian::adapters::pytest {

// TEST_FAILED alerts raised one by one; the failures past it are counted in one summary alert.
inline constexpr std::size_t kMaxFailureAlerts = 10;

class FailureAlerts {
 public:
  // `source` names the raiser in every alert ("pytest", "junit").
  FailureAlerts(alerts::AlertBus& bus, std::string source) : bus_(bus), source_(std::move(source)) {}

  // One failed or errored test: an alert while under the limit, else counted.
  void failed(const TestResult& failure);
  // The summary alert for the failures past the limit (once; nothing if none were held back).
  // `total_failures` is how many tests failed in all, for the message.
  void finish(std::size_t total_failures);

  std::size_t alerted() const { return alerted_; }
  std::size_t held_back() const { return held_back_; }

 private:
  alerts::AlertBus& bus_;
  std::string source_;
  std::size_t alerted_ = 0;
  std::size_t held_back_ = 0;
  bool finished_ = false;
};

}  // namespace guardian::adapters::pytest
