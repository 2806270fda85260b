#include "adapters/pytest/test_run_tracker.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

namespace guardian::adapters::pytest {
namespace {

std::string string_field(const nlohmann::json& event, const char* key) {
  auto it = event.find(key);
  return it != event.end() && it->is_string() ? it->get<std::string>() : std::string();
}

nlohmann::json result_json(const TestResult& result) {
  nlohmann::json out{{"nodeid", result.nodeid}, {"outcome", result.outcome}, {"duration_s", result.duration_s}};
  if (!result.text.empty()) out["text"] = result.text;
  if (!result.worker.empty()) out["worker"] = result.worker;
  return out;
}

nlohmann::json usage_json(const TestResult& result) {
  nlohmann::json out{{"nodeid", result.nodeid},
                     {"outcome", result.outcome},
                     {"cpu_ms", std::llround(result.usage->cpu_ms)},
                     {"peak_memory_bytes", result.usage->peak_memory_bytes},
                     {"duration_ms", std::llround(result.duration_s * 1000.0)}};
  if (!result.usage->peak_exact) out["peak_memory_exact"] = false;
  if (!result.worker.empty()) out["worker"] = result.worker;
  return out;
}

}  // namespace

pid_t event_pid(const nlohmann::json& event) {
  auto it = event.find("pid");
  return it != event.end() && it->is_number_integer() ? it->get<pid_t>() : 0;
}

double event_number(const nlohmann::json& event, const char* key) {
  auto it = event.find(key);
  return it != event.end() && it->is_number() ? it->get<double>() : 0.0;
}

std::vector<const TestResult*> heaviest_tests(const std::vector<TestResult>& results, HeavyOrder order,
                                              std::size_t limit) {
  std::vector<const TestResult*> measured;
  for (const auto& result : results)
    if (result.usage) measured.push_back(&result);
  auto key = [order](const TestResult* result) {
    const auto& usage = *result->usage;
    return order == HeavyOrder::memory ? std::pair<double, double>(static_cast<double>(usage.peak_memory_bytes), usage.cpu_ms)
                                       : std::pair<double, double>(usage.cpu_ms, static_cast<double>(usage.peak_memory_bytes));
  };
  // Stable: equal costs keep the order the tests ran in.
  std::stable_sort(measured.begin(), measured.end(),
                   [&](const TestResult* a, const TestResult* b) { return key(a) > key(b); });
  if (measured.size() > limit) measured.resize(limit);
  return measured;
}

EventEffect TestRunTracker::consume(const nlohmann::json& event, Clock::time_point now,
                                    std::optional<TestUsage> usage) {
  EventEffect effect;
  if (!event.is_object() || !event.contains("event") || !event["event"].is_string()) {
    effect.ignored = true;
    return effect;
  }
  const std::string kind = event["event"].get<std::string>();
  const pid_t pid = event_pid(event);
  const std::string worker = string_field(event, "worker");
  if (!worker.empty()) workers_.insert(worker);

  if (kind == "process_start") {
    stack_dump_[pid] = event.contains("stack_dump_signal") && event["stack_dump_signal"].is_string();
  } else if (kind == "session_start") {
    // Under xdist every worker has a session too; the controller's (no worker) is the run's.
    if (worker.empty()) ++sessions_;
  } else if (kind == "test_start") {
    running_[pid] = RunningTest{string_field(event, "nodeid"), pid, worker, now};
  } else if (kind == "test_finish") {
    running_.erase(pid);
    TestResult result{string_field(event, "nodeid"), string_field(event, "outcome"),
                      event_number(event, "duration_s"), string_field(event, "text"), worker, usage};
    if (result.outcome.empty()) result.outcome = "passed";
    ++counts_[result.outcome];
    if (result.outcome == "failed") ++failed_;
    if (result.outcome == "error") ++errors_;
    if (result.outcome == "failed" || result.outcome == "error") effect.failure = result;
    results_.push_back(std::move(result));
  } else if (kind == "collection_error") {
    collection_errors_.push_back({{"nodeid", string_field(event, "nodeid")}, {"text", string_field(event, "text")}});
    effect.collection_error = string_field(event, "nodeid");
  } else if (kind == "session_finish") {
    if (worker.empty()) {
      session_duration_s_ = event_number(event, "duration_s");
      if (event.contains("exitstatus") && event["exitstatus"].is_number_integer())
        exit_status_ = event["exitstatus"].get<int>();
    }
    // A worker that finished runs nothing any more.
    running_.erase(pid);
  } else {
    effect.ignored = true;
  }
  return effect;
}

nlohmann::json TestRunTracker::running_test(Clock::time_point now) const {
  const RunningTest* oldest = nullptr;
  for (const auto& [pid, test] : running_)
    if (!oldest || test.started < oldest->started) oldest = &test;
  if (!oldest) return nullptr;
  nlohmann::json out{{"nodeid", oldest->nodeid}, {"pid", oldest->pid},
                     {"running_ms", std::chrono::duration_cast<std::chrono::milliseconds>(now - oldest->started).count()}};
  if (!oldest->worker.empty()) out["worker"] = oldest->worker;
  return out;
}

bool TestRunTracker::can_dump_stacks(pid_t pid) const {
  auto it = stack_dump_.find(pid);
  return it != stack_dump_.end() && it->second;
}

nlohmann::json TestRunTracker::report_section() const {
  auto section = summary_section(results_.size());
  // Every test, briefly: what `guardian runs tests` compares across runs.
  nlohmann::json results = nlohmann::json::array();
  for (const auto& result : results_) {
    results.push_back({{"nodeid", result.nodeid}, {"outcome", result.outcome}, {"duration_s", result.duration_s}});
    if (result.usage) {
      results.back()["cpu_ms"] = std::llround(result.usage->cpu_ms);
      results.back()["peak_memory_bytes"] = result.usage->peak_memory_bytes;
    }
  }
  section["results"] = std::move(results);
  return section;
}

nlohmann::json TestRunTracker::live_section() const { return summary_section(kLiveFailures); }

nlohmann::json TestRunTracker::summary_section(std::size_t max_failures) const {
  nlohmann::json counts = nlohmann::json::object();
  for (const auto* name : {"passed", "failed", "error", "skipped", "xfailed", "xpassed"}) counts[name] = 0;
  for (const auto& [outcome, count] : counts_) counts[outcome] = count;
  double total_s = 0;
  for (const auto& result : results_) total_s += result.duration_s;

  std::vector<const TestResult*> by_duration;
  for (const auto& result : results_) by_duration.push_back(&result);
  std::sort(by_duration.begin(), by_duration.end(),
            [](const TestResult* a, const TestResult* b) { return a->duration_s > b->duration_s; });
  nlohmann::json slowest = nlohmann::json::array();
  for (std::size_t i = 0; i < by_duration.size() && i < 10; ++i) slowest.push_back(result_json(*by_duration[i]));

  nlohmann::json failures = nlohmann::json::array();
  for (const auto& result : results_)
    if ((result.outcome == "failed" || result.outcome == "error") && failures.size() < max_failures)
      failures.push_back(result_json(result));

  // The costliest tests: by resident peak first (memory is what ends runs — a ceiling kill,
  // the OOM killer — and, unlike CPU, it does not show in the durations), then by CPU time.
  nlohmann::json heaviest = nlohmann::json::array();
  for (const auto* result : heaviest_tests(results_, HeavyOrder::memory)) heaviest.push_back(usage_json(*result));
  nlohmann::json heaviest_cpu = nlohmann::json::array();
  for (const auto* result : heaviest_tests(results_, HeavyOrder::cpu)) heaviest_cpu.push_back(usage_json(*result));

  nlohmann::json running = nlohmann::json::array();
  for (const auto& [pid, test] : running_) running.push_back({{"nodeid", test.nodeid}, {"pid", pid}});

  return {{"source", "pytest"},
          {"total", results_.size()},
          {"counts", counts},
          {"duration_s", session_duration_s_.value_or(total_s)},
          {"tests_duration_s", total_s},
          {"slowest", slowest},
          {"failures", failures},
          {"heaviest", heaviest},
          {"heaviest_cpu", heaviest_cpu},
          {"collection_errors", collection_errors_},
          {"unfinished", running},
          {"workers", workers_},
          {"exit_status", exit_status_ ? nlohmann::json(*exit_status_) : nlohmann::json()}};
}

}  // namespace guardian::adapters::pytest
