#include "adapters/pytest/failure_alerts.hpp"

#include <fmt/format.h>

#include "guardian/alerts/alert_bus.hpp"

namespace guardian::adapters::pytest {

void FailureAlerts::failed(const TestResult& failure) {
  if (alerted_ >= kMaxFailureAlerts) {
    ++held_back_;
    return;
  }
  ++alerted_;
  alerts::AlertSpec spec;
  spec.type = alerts::AlertType::test_failed;
  spec.subject = failure.nodeid;
  spec.title = fmt::format("test {}: {}", failure.outcome == "error" ? "error" : "failed", failure.nodeid);
  spec.message = failure.text.empty() ? spec.title : failure.text;
  spec.source = source_;
  spec.context = {{"nodeid", failure.nodeid}, {"outcome", failure.outcome}, {"duration_s", failure.duration_s}};
  if (!failure.worker.empty()) spec.context["worker"] = failure.worker;
  bus_.raise(std::move(spec));
}

void FailureAlerts::finish(std::size_t total_failures) {
  if (finished_ || held_back_ == 0) return;
  finished_ = true;
  alerts::AlertSpec spec;
  spec.type = alerts::AlertType::test_failed;
  spec.subject = "tests";
  spec.title = fmt::format("{} more tests failed", held_back_);
  spec.message = fmt::format("{} tests failed in all; alerts were raised for the first {}. See the report's "
                             "'tests' section for every failure.", total_failures, alerted_);
  spec.source = source_;
  spec.context = {{"failures", total_failures}, {"alerted", alerted_}};
  bus_.raise(std::move(spec));
}

}  // namespace guardian::adapters::pytest
