// Monitor's reports: the status line printed at the level's report interval, and the run
// report's "monitor" section (levels, conditions, peaks, the protector's actions, and
// guardian's own cost while it watched).
#include <sys/resource.h>

#include <algorithm>
#include <fmt/format.h>

#include "guardian/config/quantity.hpp"
#include "guardian/monitor/monitor.hpp"
#include "guardian/context/run_context.hpp"

namespace guardian::monitor {
namespace {

using Clock = std::chrono::steady_clock;

struct SelfUsage {
  std::uint64_t cpu_usec = 0;
  std::uint64_t max_rss_bytes = 0;
};

SelfUsage self_usage() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  auto usec = [](const timeval& tv) {
    return static_cast<std::uint64_t>(tv.tv_sec) * 1'000'000ULL + static_cast<std::uint64_t>(tv.tv_usec);
  };
  return {usec(usage.ru_utime) + usec(usage.ru_stime), static_cast<std::uint64_t>(usage.ru_maxrss) * 1024};
}

std::uint64_t emitted_alerts(const alerts::AlertBus& bus) {
  auto summary = bus.summary();
  return summary.value("emitted", std::uint64_t{0});
}

}  // namespace

// The status lines count alerts from here, and guardian's own cost is measured from here.
void Monitor::begin_reports() {
  last_report_at_ = Clock::now();
  watched_at_ = last_report_at_;
  process_cpu_usec_at_watch_ = self_usage().cpu_usec;
  alerts_at_last_report_ = emitted_alerts(run_.alerts);
}

void Monitor::report(const Snapshot& s, SteadyTime now) {
  last_report_at_ = now;
  std::uint64_t emitted = emitted_alerts(run_.alerts);
  std::uint64_t alerts_since = emitted - std::min(emitted, alerts_at_last_report_);
  alerts_at_last_report_ = emitted;
  std::string cpu = s.cpu_percent_of_ceiling
                        ? fmt::format("cpu {:.0f}% of ceiling ({:.2f} of {:.2g} cores)", *s.cpu_percent_of_ceiling,
                                      *s.cpu_percent_of_core / 100.0, s.cpu_ceiling_cores)
                        : std::string("cpu n/a");
  std::string line = fmt::format("[{}] {} · memory {} ({:.0f}% of {}) · {} process{} · {} alert{} since last report",
                                 to_string(progressive_.level()), cpu, config::format_bytes(s.memory_bytes),
                                 s.memory_percent_of_ceiling, config::format_bytes(s.memory_ceiling_bytes), s.processes,
                                 s.processes == 1 ? "" : "es", alerts_since, alerts_since == 1 ? "" : "s");
  run_.console.info(line);
  run_.log.info("monitor", "monitor.report", line,
                {{"level", to_string(progressive_.level())},
                 {"reason", progressive_.reason()},
                 {"alerts_since_last_report", alerts_since},
                 {"snapshot", to_json(s)}});
}

nlohmann::json Monitor::report_section() const {
  const SteadyTime now = Clock::now();
  nlohmann::json levels = nlohmann::json::object();
  auto times = progressive_.time_per_level(now);
  for (Level level : kAllLevels) {
    auto visits = progressive_.visits().find(level);
    levels[std::string(to_string(level))] = {
        {"time_ms", times.count(level) ? times.at(level).count() : 0},
        {"visits", visits == progressive_.visits().end() ? 0 : visits->second}};
  }
  nlohmann::json conditions = nlohmann::json::object();
  for (const auto& [key, condition] : progressive_.conditions())
    conditions[key] = {{"severity", to_string(condition.severity)}, {"reason", condition.reason}};
  auto latest = ring_.latest();
  const auto& counts = protector_.counts();
  const SelfUsage self = self_usage();
  const auto watched_ms =
      sampler_ ? std::chrono::duration_cast<std::chrono::milliseconds>(now - watched_at_).count() : 0;
  return {
      {"final_level", to_string(progressive_.level())},
      {"final_reason", progressive_.reason()},
      {"pinned", progressive_.pinned()},
      {"levels", levels},
      {"transitions_total", transitions_total_},
      {"transitions", transitions_},
      {"active_conditions", conditions},
      {"checks", checks_},
      {"process_walks", walks_},
      {"peak",
       {{"memory_bytes", peak_memory_bytes_},
        {"cpu_percent_of_core", peak_cpu_percent_ ? nlohmann::json(*peak_cpu_percent_) : nlohmann::json(nullptr)},
        {"processes", peak_processes_},
        {"threads", peak_threads_}}},
      {"protector",
       {{"mode", to_string(settings_.protector.mode)},
        {"reniced", counts.reniced},
        {"terminated", counts.terminated},
        {"spared", counts.spared},
        {"disk_cleanups", counts.disk_cleanups},
        {"disk_bytes_freed", disk_bytes_freed_},
        {"breaker_open", protector_.breaker_open()},
        {"actions", actions_log_}}},
      {"cost",
       {{"check_cpu_usec", check_cpu_nsec_ / 1000},
        {"check_cpu_usec_mean", checks_ ? static_cast<double>(check_cpu_nsec_) / 1000.0 / static_cast<double>(checks_) : 0.0},
        {"guardian_cpu_usec_while_watching", self.cpu_usec - std::min(self.cpu_usec, process_cpu_usec_at_watch_)},
        {"watched_ms", watched_ms},
        {"guardian_max_rss_bytes", self.max_rss_bytes}}},
      {"last_snapshot", latest ? to_json(*latest) : nlohmann::json(nullptr)},
      {"settings", settings_.to_json()},
  };
}

}  // namespace guardian::monitor
