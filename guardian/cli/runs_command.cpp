// `guardian runs [--json]`, `guardian runs show ID [--json]`, `guardian runs tests [--json]`:
// past runs and their tests, read from the run directories (report/run_history.hpp).
#include <fstream>
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "guardian/cli/subcommand.hpp"
#include "guardian/config/quantity.hpp"
#include "guardian/process/exit_status.hpp"
#include "guardian/report/run_history.hpp"

namespace guardian::cli {
namespace {

std::string optional_count(const std::optional<std::uint64_t>& count) {
  return count ? std::to_string(*count) : std::string("-");
}

int list_runs(const std::filesystem::path& runs_dir, bool json) {
  const auto runs = report::read_run_summaries(runs_dir);
  if (json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& run : runs) out.push_back(run.to_json());
    fmt::print("{}\n", out.dump(2));
    return 0;
  }
  if (runs.empty()) {
    fmt::print("no runs in {} yet: `guardian run -- COMMAND` records one there\n", runs_dir.string());
    return 0;
  }
  fmt::print("{:<24} {:<20} {:>4} {:>9} {:>10} {:>6} {:>6} {:>6}  {}\n", "RUN", "STARTED", "EXIT", "DURATION",
             "PEAK MEM", "PASSED", "FAILED", "ALERTS", "COMMAND");
  for (const auto& run : runs) {
    fmt::print("{:<24} {:<20} {:>4} {:>8.1f}s {:>10} {:>6} {:>6} {:>6}  {}\n", run.run_id,
               run.started_at.substr(0, 19), run.exit_code ? std::to_string(*run.exit_code) : std::string("?"),
               run.duration_s, config::format_bytes(run.peak_memory_bytes), optional_count(run.tests_passed),
               optional_count(run.tests_failed), run.alerts, run.command);
  }
  return 0;
}

int show_run(const std::filesystem::path& runs_dir, const std::string& id, bool json) {
  auto dir = report::find_run(runs_dir, id);
  if (!dir) {
    fmt::print(stderr, "guardian: no single run matches '{}' in {}; `guardian runs` lists them\n", id,
               runs_dir.string());
    return process::exit_code::guardian_failed;
  }
  std::ifstream in(*dir / "report.json");
  auto report = nlohmann::json::parse(in, nullptr, false);
  if (json || report.is_discarded()) {
    if (report.is_discarded()) {
      fmt::print(stderr, "guardian: {} has no readable report.json (still running, or stopped by SIGKILL)\n",
                 dir->string());
      return 1;
    }
    fmt::print("{}\n", report.dump(2));
    return 0;
  }
  for (const auto& run : report::read_run_summaries(runs_dir)) {
    if (run.dir != *dir) continue;
    fmt::print("run       {}\ndirectory {}\ncommand   {}\nstarted   {}\nexit      {} ({})\nduration  {:.1f}s\n"
               "peak mem  {}\ntests     {} passed, {} failed\nalerts    {}\n",
               run.run_id, run.dir.string(), run.command, run.started_at,
               run.exit_code ? std::to_string(*run.exit_code) : "?", report.value("outcome", "?"), run.duration_s,
               config::format_bytes(run.peak_memory_bytes), optional_count(run.tests_passed),
               optional_count(run.tests_failed), run.alerts);
  }
  if (report.contains("tests") && report["tests"].contains("failures"))
    for (const auto& failure : report["tests"]["failures"])
      fmt::print("  failed  {}: {}\n", failure.value("nodeid", ""), failure.value("text", ""));
  fmt::print("files     {}/{{report.json,events.jsonl,alerts.jsonl}}\n", dir->string());
  return 0;
}

int test_history(const std::filesystem::path& runs_dir, bool json) {
  const auto history = report::read_test_history(runs_dir);
  if (json) {
    fmt::print("{}\n", history.to_json().dump(2));
    return 0;
  }
  fmt::print("{} runs with test results in {}\n", history.runs_with_tests, runs_dir.string());
  fmt::print("\nflaky candidates (failed and passed on the same code):\n");
  if (history.flaky.empty()) fmt::print("  none\n");
  for (const auto& test : history.flaky)
    fmt::print("  {}  passed {}, failed {}{}\n", test.nodeid, test.passed, test.failed,
               test.revision.empty() ? "" : " at " + test.revision.substr(0, 12));
  fmt::print("\nslower (duration grew by half or more):\n");
  if (history.slower.empty()) fmt::print("  none\n");
  for (const auto& test : history.slower)
    fmt::print("  {}  {:.2f}s -> {:.2f}s\n", test.nodeid, test.first_s, test.last_s);
  fmt::print("\nmost expensive (time across runs):\n");
  if (history.expensive.empty()) fmt::print("  none\n");
  for (const auto& test : history.expensive)
    fmt::print("  {}  {:.2f}s in {} runs{}\n", test.nodeid, test.total_s, test.runs,
               test.peak_memory_bytes > 0 ? " · peak " + config::format_bytes(test.peak_memory_bytes) : "");
  return 0;
}

}  // namespace

Subcommand add_runs_command(CLI::App& app, GlobalOptions& global) {
  auto* runs = app.add_subcommand("runs", "Past runs: id, start, exit, duration, peak memory, tests, alerts");
  auto json = std::make_shared<bool>(false);
  auto id = std::make_shared<std::string>();
  runs->add_flag("--json", *json, "Print JSON");
  runs->add_option("--config", global.config_path, "Read settings from this TOML file")->option_text("PATH");
  auto* show = runs->add_subcommand("show", "One run's report: guardian runs show RUN-ID (or a unique part of it)");
  show->add_option("id", *id, "The run's id, or its start or its end")->required();
  show->add_flag("--json", *json, "Print the whole report.json");
  auto* tests = runs->add_subcommand("tests", "Across runs: flaky candidates, tests that got slower, the most expensive");
  tests->add_flag("--json", *json, "Print JSON");
  auto flags = std::make_shared<SchemaFlags>();
  return {runs, [show, tests, json, id, flags, &global] {
            const std::filesystem::path runs_dir = load_config(global, *flags).text("run.runs_dir");
            if (show->parsed()) return show_run(runs_dir, *id, *json);
            if (tests->parsed()) return test_history(runs_dir, *json);
            return list_runs(runs_dir, *json);
          }};
}

}  // namespace guardian::cli
