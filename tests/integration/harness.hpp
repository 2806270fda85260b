// Test harness for the integration tests: runs the real guardian binary in a fresh
// directory with a marker variable that every process of the run inherits, captures
// its output under a hard deadline, and proves afterwards that no marked process is
// left alive.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace guardian::testing {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using Json = nlohmann::json;

// Absolute paths of the binaries under test (compile definitions set by CMake);
// GUARDIAN_IT_BINARY=/path/to/guardian in the test's environment replaces the first.
std::string guardian_bin();
std::string target_bin();

// The name of the variable that marks every process a test starts.
inline constexpr std::string_view kMarkerVariable = "GUARDIAN_TEST_MARKER";

// What guardian did, as seen from its parent.
struct RunResult {
  int exit_code = -1;    // guardian's exit status; -1 if it did not exit normally
  int term_signal = 0;   // the signal guardian itself died of, 0 if it exited
  std::string out;       // everything written to guardian's stdout (the command's included)
  std::string err;       // everything written to guardian's stderr
  bool deadline_hit = false;      // the harness had to kill guardian
  bool pipes_left_open = false;   // something still held stdout/stderr after guardian ended
  std::string describe() const;   // for failure messages
  std::vector<std::string> err_lines() const;  // stderr split into non-empty lines
  std::vector<std::string> out_lines() const;
};

struct SpawnOptions {
  std::vector<std::string> args;  // the program's arguments (argv[1..])
  fs::path cwd;
  // Added to the test process's environment, minus its GUARDIAN_* variables.
  std::vector<std::pair<std::string, std::string>> env;
  std::string program;  // empty: guardian itself; else e.g. a shell that starts guardian
};

// Builds the environment guardian gets: the test's own (without GUARDIAN_* and the CI
// markers CI, GITHUB_ACTIONS, GITLAB_CI, GITHUB_STEP_SUMMARY), plus extras.
std::vector<std::string> child_environment(const std::vector<std::pair<std::string, std::string>>& extra);

// One guardian process with pipes on stdout and stderr and /dev/null on stdin.
class GuardianProcess {
 public:
  explicit GuardianProcess(const SpawnOptions& options);
  ~GuardianProcess();  // kills and reaps guardian if the test did not wait for it
  GuardianProcess(const GuardianProcess&) = delete;
  GuardianProcess& operator=(const GuardianProcess&) = delete;

  pid_t pid() const { return pid_; }
  bool started() const { return pid_ > 0; }
  // Reads output until stdout contains `needle` (true), guardian ends or the timeout (false).
  bool wait_for_stdout(std::string_view needle, std::chrono::milliseconds timeout);
  void send_signal(int signal_number);
  // Waits for guardian to end; past the deadline kills it, records a failure and
  // sets deadline_hit.
  RunResult wait(std::chrono::milliseconds timeout);
  const std::string& out() const { return result_.out; }

 private:
  void pump(int timeout_ms);  // one poll round over the pipes and the pidfd
  void reap_if_exited();

  pid_t pid_ = -1;
  int pidfd_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  bool exited_ = false;
  RunResult result_;
};

// A process carrying a test's marker.
struct MarkedProcess {
  pid_t pid = 0;
  char state = '?';
  std::string cmdline;
};

// Live (non-zombie) processes whose environment holds `marker_variable=marker`.
std::vector<MarkedProcess> processes_with_marker(const std::string& marker);

// Fails the test listing every live process carrying the marker after `settle`
// (a dying process may need a moment to leave), then SIGKILLs them so later tests
// start clean.
void expect_no_orphans(const std::string& marker, std::chrono::milliseconds settle = 1000ms);

// Parses a JSON file; records a failure and returns null if missing or invalid.
Json read_json_file(const fs::path& path);
// Parses a JSON Lines file; records a failure per invalid line.
std::vector<Json> read_json_lines(const fs::path& path);
std::string read_text_file(const fs::path& path);

// The one directory under `cwd`/.guardian/runs, or an empty path (with a failure).
fs::path only_run_dir(const fs::path& cwd);

// Fixture: a fresh working directory and marker per test, orphan check after each.
class GuardianTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // {"run", flags..., "--", guardian-target, target_args...}
  static std::vector<std::string> run_target(std::vector<std::string> flags,
                                             std::vector<std::string> target_args);
  // The same with "--report <dir>/report-copy.json" added to the flags, read by report().
  std::vector<std::string> run_target_reported(std::vector<std::string> flags,
                                               std::vector<std::string> target_args) const;

  SpawnOptions options(std::vector<std::string> args) const;
  RunResult run(std::vector<std::string> args, std::chrono::milliseconds timeout = 20s) const;
  std::unique_ptr<GuardianProcess> start(std::vector<std::string> args) const;

  fs::path report_copy_path() const { return dir_ / "report-copy.json"; }
  Json report() const { return read_json_file(report_copy_path()); }

  fs::path dir_;        // the run's working directory
  std::string marker_;  // this test's marker value
};

}  // namespace guardian::testing
