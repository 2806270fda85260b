#include "guardian/report/run_history.hpp"

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "guardian/report/runs_housekeeping.hpp"

namespace guardian::report {
namespace fs = std::filesystem;

namespace {

nlohmann::json read_report(const fs::path& dir) {
  std::ifstream in(dir / "report.json");
  if (!in) return nullptr;
  auto report = nlohmann::json::parse(in, nullptr, false);
  return report.is_object() ? report : nlohmann::json();
}

template <typename T>
T number_at(const nlohmann::json& object, const nlohmann::json::json_pointer& pointer, T fallback) {
  if (!object.contains(pointer)) return fallback;
  const auto& value = object.at(pointer);
  return value.is_number() ? value.get<T>() : fallback;
}

std::string first_line(const fs::path& file) {
  std::ifstream in(file);
  std::string line;
  std::getline(in, line);
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  return line;
}

// The commit a ref names, from its loose file or packed-refs.
std::string resolve_ref(const fs::path& git_dir, const std::string& ref) {
  if (auto loose = first_line(git_dir / ref); !loose.empty()) return loose;
  std::ifstream packed(git_dir / "packed-refs");
  for (std::string line; std::getline(packed, line);)
    if (line.size() > 41 && line.compare(41, std::string::npos, ref) == 0) return line.substr(0, 40);
  return {};
}

}  // namespace

nlohmann::json RunSummary::to_json() const {
  return {{"run_id", run_id},
          {"dir", dir.string()},
          {"started_at", started_at},
          {"command", command},
          {"exit_code", exit_code ? nlohmann::json(*exit_code) : nlohmann::json()},
          {"duration_s", duration_s},
          {"peak_memory_bytes", peak_memory_bytes},
          {"tests_passed", tests_passed ? nlohmann::json(*tests_passed) : nlohmann::json()},
          {"tests_failed", tests_failed ? nlohmann::json(*tests_failed) : nlohmann::json()},
          {"alerts", alerts}};
}

std::vector<RunSummary> read_run_summaries(const fs::path& runs_dir) {
  std::vector<RunSummary> runs;
  for (const auto& dir : list_run_dirs(runs_dir)) {
    RunSummary run;
    run.run_id = dir.filename().string();
    run.dir = dir;
    const auto report = read_report(dir);
    if (report.is_object()) {
      run.started_at = report.value("started_at", "");
      if (report.contains("command") && report["command"].is_array())
        for (const auto& word : report["command"]) run.command += (run.command.empty() ? "" : " ") + word.get<std::string>();
      if (report.contains("exit_code") && report["exit_code"].is_number_integer()) run.exit_code = report["exit_code"].get<int>();
      run.duration_s = number_at<double>(report, "/duration_ms"_json_pointer, 0) / 1000.0;
      run.peak_memory_bytes = number_at<std::uint64_t>(report, "/resources/peak_memory_bytes"_json_pointer, 0);
      if (report.contains("tests")) {
        run.tests_passed = number_at<std::uint64_t>(report, "/tests/counts/passed"_json_pointer, 0);
        run.tests_failed = number_at<std::uint64_t>(report, "/tests/counts/failed"_json_pointer, 0) +
                           number_at<std::uint64_t>(report, "/tests/counts/error"_json_pointer, 0);
      }
      run.alerts = number_at<std::uint64_t>(report, "/alerts/emitted"_json_pointer, 0);
    }
    runs.push_back(std::move(run));
  }
  return runs;
}

std::optional<fs::path> find_run(const fs::path& runs_dir, const std::string& id) {
  if (id.empty()) return std::nullopt;
  std::optional<fs::path> found;
  for (const auto& dir : list_run_dirs(runs_dir)) {
    const std::string name = dir.filename().string();
    if (name == id) return dir;
    if (name.starts_with(id) || name.ends_with(id)) {
      if (found) return std::nullopt;  // ambiguous
      found = dir;
    }
  }
  return found;
}

std::string git_revision(const fs::path& start) {
  std::error_code error;
  for (fs::path dir = fs::absolute(start, error); !dir.empty(); dir = dir.parent_path()) {
    fs::path git = dir / ".git";
    if (fs::is_regular_file(git, error)) {  // a worktree or submodule: "gitdir: PATH"
      std::string line = first_line(git);
      if (!line.starts_with("gitdir: ")) return {};
      git = fs::path(line.substr(8));
      if (git.is_relative()) git = dir / git;
    } else if (!fs::is_directory(git, error)) {
      if (dir == dir.parent_path()) break;
      continue;
    }
    const std::string head = first_line(git / "HEAD");
    if (!head.starts_with("ref: ")) return head;  // detached
    std::string commit = resolve_ref(git, head.substr(5));
    // A worktree keeps its refs in the common directory.
    if (commit.empty()) {
      if (std::string common = first_line(git / "commondir"); !common.empty())
        commit = resolve_ref(fs::path(common).is_relative() ? git / common : fs::path(common), head.substr(5));
    }
    return commit;
  }
  return {};
}

nlohmann::json TestHistory::to_json() const {
  nlohmann::json out{{"runs_with_tests", runs_with_tests},
                     {"flaky", nlohmann::json::array()},
                     {"slower", nlohmann::json::array()},
                     {"expensive", nlohmann::json::array()}};
  for (const auto& test : flaky)
    out["flaky"].push_back({{"nodeid", test.nodeid}, {"revision", test.revision}, {"passed", test.passed},
                            {"failed", test.failed}});
  for (const auto& test : slower)
    out["slower"].push_back({{"nodeid", test.nodeid}, {"first_s", test.first_s}, {"last_s", test.last_s}});
  for (const auto& test : expensive)
    out["expensive"].push_back(
        {{"nodeid", test.nodeid}, {"total_s", test.total_s}, {"runs", test.runs}, {"peak_memory_bytes", test.peak_memory_bytes}});
  return out;
}

TestHistory read_test_history(const fs::path& runs_dir) {
  TestHistory history;
  std::map<std::pair<std::string, std::string>, TestHistory::Flaky> outcomes;  // (revision, nodeid)
  std::map<std::string, std::vector<double>> passing_durations;               // oldest first
  std::map<std::string, TestHistory::Expensive> cost;
  for (const auto& dir : list_run_dirs(runs_dir)) {
    const auto report = read_report(dir);
    if (!report.is_object() || !report.contains("tests") || !report["tests"].contains("results")) continue;
    ++history.runs_with_tests;
    const auto& tests = report["tests"];
    const std::string revision = tests.value("revision", "");
    for (const auto& result : tests["results"]) {
      const std::string nodeid = result.value("nodeid", "");
      const std::string outcome = result.value("outcome", "");
      const double duration_s = result.value("duration_s", 0.0);
      auto& seen = outcomes[{revision, nodeid}];
      seen.nodeid = nodeid;
      seen.revision = revision;
      if (outcome == "passed") {
        ++seen.passed;
        passing_durations[nodeid].push_back(duration_s);
      } else if (outcome == "failed" || outcome == "error") {
        ++seen.failed;
      }
      auto& spent = cost[nodeid];
      spent.nodeid = nodeid;
      spent.total_s += duration_s;
      ++spent.runs;
      spent.peak_memory_bytes = std::max(spent.peak_memory_bytes, result.value("peak_memory_bytes", std::uint64_t{0}));
    }
  }
  for (const auto& [key, test] : outcomes)
    if (test.passed > 0 && test.failed > 0) history.flaky.push_back(test);
  for (const auto& [nodeid, durations] : passing_durations) {
    if (durations.size() < 2) continue;
    const double first = durations.front(), last = durations.back();
    if (last >= first * 1.5 && last - first >= 0.1) history.slower.push_back({nodeid, first, last});
  }
  std::sort(history.slower.begin(), history.slower.end(),
            [](const auto& a, const auto& b) { return a.last_s - a.first_s > b.last_s - b.first_s; });
  for (auto& [nodeid, spent] : cost) history.expensive.push_back(spent);
  std::sort(history.expensive.begin(), history.expensive.end(),
            [](const auto& a, const auto& b) { return a.total_s > b.total_s; });
  if (history.expensive.size() > 10) history.expensive.resize(10);
  return history;
}

}  // namespace guardian::report
