// The runs directory looks after itself (issue 16): a .gitignore in the .guardian/ it creates
// keeps a repository's `git status` clean, and runs.keep bounds how many run directories stay.
#include <algorithm>
#include <cstdlib>
#include <fstream>

#include "harness.hpp"

namespace guardian::testing {
namespace {

std::vector<std::string> run_names(const fs::path& cwd) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(cwd / ".guardian" / "runs"))
    if (entry.is_directory()) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

TEST_F(GuardianTest, CreatedGuardianDirectoryStaysOutOfGit) {
  const std::string git = "git -C '" + dir_.string() + "' ";
  ASSERT_EQ(std::system((git + "init -q").c_str()), 0);
  auto result = run(run_target({"--quiet"}, {"exit", "0"}));
  ASSERT_EQ(result.exit_code, 0) << result.describe();
  EXPECT_EQ(read_text_file(dir_ / ".guardian" / ".gitignore").find("\n*\n") != std::string::npos, true);
  const std::string status_file = (fs::temp_directory_path() / ("git-status-" + marker_)).string();
  ASSERT_EQ(std::system((git + "status --porcelain --untracked-files=all > '" + status_file + "'").c_str()), 0);
  EXPECT_EQ(read_text_file(status_file), "") << "git sees guardian's files";
  fs::remove(status_file);
}

TEST_F(GuardianTest, ExistingGuardianDirectoryGetsItsGitignore) {
  fs::create_directories(dir_ / ".guardian" / "runs");  // made by an older guardian
  auto result = run(run_target({"--quiet"}, {"exit", "0"}));
  ASSERT_EQ(result.exit_code, 0) << result.describe();
  EXPECT_TRUE(fs::exists(dir_ / ".guardian" / ".gitignore"));
}

TEST_F(GuardianTest, OldRunsArePrunedToRunsKeep) {
  std::vector<std::string> ids;  // in the order the runs started
  for (int i = 0; i < 3; ++i) {
    auto result = run(run_target({"--quiet", "--runs-keep", "2"}, {"print-env", "GUARDIAN_RUN_ID"}));
    ASSERT_EQ(result.exit_code, 0) << result.describe();
    ASSERT_EQ(result.out_lines().size(), 1u) << result.describe();
    ids.push_back(result.out_lines()[0]);
  }
  std::vector<std::string> newest_two{ids[1], ids[2]};
  std::sort(newest_two.begin(), newest_two.end());
  EXPECT_EQ(run_names(dir_), newest_two) << "the oldest run is the one removed";

  // The same key from the file and the environment; files that are not runs are left alone.
  std::ofstream(dir_ / ".guardian" / "runs" / "notes.txt") << "mine\n";
  std::ofstream(dir_ / "guardian.toml") << "[runs]\nkeep = 1\n";
  ASSERT_EQ(run(run_target({"--quiet"}, {"exit", "0"})).exit_code, 0);
  EXPECT_EQ(run_names(dir_).size(), 1u);
  EXPECT_TRUE(fs::exists(dir_ / ".guardian" / "runs" / "notes.txt"));
  fs::remove(dir_ / "guardian.toml");
  for (int i = 0; i < 3; ++i) {
    SpawnOptions spawn = options(run_target({"--quiet"}, {"exit", "0"}));
    spawn.env.emplace_back("GUARDIAN_RUNS_KEEP", "3");
    ASSERT_EQ(GuardianProcess(spawn).wait(20s).exit_code, 0);
  }
  EXPECT_EQ(run_names(dir_).size(), 3u);
}

// A run that raises no alert starts no plugin host (issue 17): the default plugins act on
// alerts only, and a second start of guardian per run was most of a short run's cost.
TEST_F(GuardianTest, ARunWithoutAlertsStartsNoPluginHost) {
  const RunResult result = run(run_target_reported({"--quiet"}, {"exit", "0"}));
  ASSERT_EQ(result.exit_code, 0) << result.describe();
  EXPECT_FALSE(report().contains("plugins")) << report().dump(2);
  for (const auto& event : read_json_lines(only_run_dir(dir_) / "events.jsonl"))
    EXPECT_NE(event.value("component", ""), "plugins") << event.dump();
  EXPECT_FALSE(fs::exists(dir_ / ".guardian" / "alerts"));
}

TEST_F(GuardianTest, RunsKeepZeroKeepsEveryRun) {
  for (int i = 0; i < 3; ++i) ASSERT_EQ(run(run_target({"--quiet", "--runs-keep", "0"}, {"exit", "0"})).exit_code, 0);
  EXPECT_EQ(run_names(dir_).size(), 3u);
}

}  // namespace
}  // namespace guardian::testing
