#pragma once
// What earlier runs left in the runs directory, read back: one summary per run (from its
// report.json) and, across runs, the tests worth a look — flaky candidates (failed and passed on
// the same code), tests whose duration grew, the most expensive. No daemon, no database: the run
// directories are the history (and runs.keep bounds it).
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace guardian::report {

struct RunSummary {
  std::string run_id;
  std::filesystem::path dir;
  std::string started_at;  // ISO 8601, as in the report
  std::string command;
  std::optional<int> exit_code;  // none: the run has no report (still running, or killed)
  double duration_s = 0;
  std::uint64_t peak_memory_bytes = 0;
  std::optional<std::uint64_t> tests_passed, tests_failed;  // none: no tests section
  std::uint64_t alerts = 0;
  nlohmann::json to_json() const;
};

// Oldest first.
std::vector<RunSummary> read_run_summaries(const std::filesystem::path& runs_dir);

// The run whose id is `id`, or starts with it, or ends with it (the random suffix); none when
// no run or more than one matches.
std::optional<std::filesystem::path> find_run(const std::filesystem::path& runs_dir, const std::string& id);

struct TestHistory {
  struct Flaky {
    std::string nodeid;
    std::string revision;  // the code both outcomes were seen on ("" when unknown)
    std::uint64_t passed = 0, failed = 0;
  };
  struct Slower {
    std::string nodeid;
    double first_s = 0, last_s = 0;  // duration in the oldest and the newest run that passed it
  };
  struct Expensive {
    std::string nodeid;
    double total_s = 0;
    std::uint64_t runs = 0;
    std::uint64_t peak_memory_bytes = 0;  // the largest per-test resident peak seen (0: never measured)
  };
  std::vector<Flaky> flaky;
  std::vector<Slower> slower;        // grew by at least half and 100 ms; biggest growth first
  std::vector<Expensive> expensive;  // the 10 with the most time across runs
  std::uint64_t runs_with_tests = 0;
  nlohmann::json to_json() const;
};

TestHistory read_test_history(const std::filesystem::path& runs_dir);

// The code a run tested: the git commit checked out in `dir` or a parent (read from .git, no
// process started); empty outside git.
std::string git_revision(const std::filesystem::path& dir);

}  // namespace guardian::report
