#include "adapters/junit/junit_adapter.hpp"

#include <sys/stat.h>

#include <fmt/format.h>

#include "adapters/pytest/failure_alerts.hpp"
#include "guardian/context/run_context.hpp"
#include "guardian/report/run_history.hpp"

namespace guardian::adapters::junit {
namespace fs = std::filesystem;

std::vector<fs::path> configured_paths(const config::Config& config, const fs::path& working_dir) {
  std::vector<fs::path> out;
  const std::string text = config.text("adapters.junit.paths");
  std::string_view rest = text;
  while (!rest.empty()) {
    auto comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty()) {
      fs::path path(item);
      out.push_back(path.is_absolute() ? path : working_dir / path);
    }
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
  }
  return out;
}

JunitAdapter::JunitAdapter(context::RunContext& context)
    : context_(context), paths_(configured_paths(context.config, context.options.working_dir)) {}

void JunitAdapter::finish(bool tests_section_taken) {
  if (finished_ || paths_.empty()) return;
  finished_ = true;
  pytest::TestRunTracker tracker;
  pytest::FailureAlerts alerts(context_.alerts, "junit");
  nlohmann::json files = nlohmann::json::array();
  nlohmann::json warnings = nlohmann::json::array();
  double duration_s = 0;
  bool any_ok = false;
  const auto run_started = std::chrono::system_clock::to_time_t(context_.report.started_at);

  for (const auto& path : paths_) {
    JunitReport report = read_junit_file(path);
    nlohmann::json file{{"path", path.string()}, {"status", to_string(report.status)}};
    if (!report.ok()) {
      file["problem"] = report.problem;
      warnings.push_back(report.problem);
      context_.console.error("--junit " + report.problem + " (the run's result is unaffected)");
      context_.log.warning("junit", "junit." + std::string(to_string(report.status)), report.problem,
                           {{"path", path.string()}});
      files.push_back(std::move(file));
      continue;
    }
    any_ok = true;
    // A file older than the run was not written by it: say so, the results may be stale.
    struct stat info {};
    if (::stat(path.c_str(), &info) == 0 && info.st_mtime < run_started) {
      std::string stale = fmt::format("{}: written before this run started; its results may be from an earlier run",
                                      path.string());
      file["stale"] = true;
      warnings.push_back(stale);
      context_.console.error("--junit " + stale);
      context_.log.warning("junit", "junit.stale", stale, {{"path", path.string()}});
    }
    file["tool"] = report.tool;
    file["tests"] = report.results.size();
    file["duration_s"] = report.duration_s;
    duration_s += report.duration_s;
    for (const auto& result : report.results) {
      nlohmann::json event{{"event", "test_finish"}, {"nodeid", result.nodeid}, {"outcome", result.outcome},
                           {"duration_s", result.duration_s}, {"pid", 0}};
      if (!result.text.empty()) event["text"] = result.text;
      auto effect = tracker.consume(event);
      if (effect.failure && !tests_section_taken) alerts.failed(*effect.failure);
    }
    context_.log.info("junit", "junit.read",
                      fmt::format("{}: {} tests ({})", path.string(), report.results.size(), report.tool),
                      {{"path", path.string()}, {"tests", report.results.size()}, {"tool", report.tool}});
    files.push_back(std::move(file));
  }

  context_.report.sections["junit"] = {{"files", files}, {"warnings", warnings}};
  if (tests_section_taken || !any_ok) return;
  alerts.finish(tracker.failures());
  tracker.consume({{"event", "session_finish"}, {"duration_s", duration_s}, {"pid", 0}});
  auto section = tracker.report_section();
  section["source"] = "junit";
  section["files"] = nlohmann::json::array();
  for (const auto& file : files)
    if (file["status"] == "ok") section["files"].push_back(file["path"]);
  section["revision"] = report::git_revision(std::filesystem::current_path());  // the code tested (guardian runs tests)
  section.erase("exit_status");  // JUnit XML does not carry the runner's exit status
  section.erase("unfinished");
  section.erase("workers");
  context_.report.sections["tests"] = std::move(section);
}

}  // namespace guardian::adapters::junit
