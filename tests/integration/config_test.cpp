// guardian config: `config show` reports each value's origin, and a bad key in a
// config file stops the run with file, line, key and a suggestion.
#include <fstream>

#include "harness.hpp"

namespace guardian::testing {
namespace {

// The line of `config show` output for exactly `key` (its first column), or "".
std::string line_for(const RunResult& result, const std::string& key) {
  for (const auto& line : result.out_lines())
    if (line.starts_with(key + " ") || line.starts_with(key + "\t")) return line;
  return "";
}

TEST_F(GuardianTest, ConfigShowNamesTheOriginOfEachValue) {
  std::ofstream(dir_ / "guardian.toml") << "# project settings\n[run]\nkill_after = \"3s\"\n";
  SpawnOptions spawn = options({"config", "show", "--timeout", "9s"});
  spawn.env.emplace_back("GUARDIAN_MODE", "test");
  GuardianProcess process(spawn);
  const RunResult result = process.wait(10s);
  ASSERT_EQ(result.exit_code, 0) << result.describe();

  const std::string from_file = line_for(result, "run.kill_after");
  EXPECT_NE(from_file.find("3s"), std::string::npos) << result.out;
  EXPECT_NE(from_file.find("guardian.toml:3"), std::string::npos) << result.out;

  const std::string from_env = line_for(result, "mode");
  EXPECT_NE(from_env.find("test"), std::string::npos) << result.out;
  EXPECT_NE(from_env.find("env GUARDIAN_MODE"), std::string::npos) << result.out;

  const std::string from_flag = line_for(result, "run.timeout");
  EXPECT_NE(from_flag.find("9s"), std::string::npos) << result.out;
  EXPECT_NE(from_flag.find("flag"), std::string::npos) << result.out;

  const std::string from_default = line_for(result, "run.runs_dir");
  EXPECT_NE(from_default.find(".guardian/runs"), std::string::npos) << result.out;
  EXPECT_NE(from_default.find("default"), std::string::npos) << result.out;
}

TEST_F(GuardianTest, ConfigShowPrefersFlagOverEnvironmentOverFile) {
  std::ofstream(dir_ / "guardian.toml") << "[run]\ntimeout = \"5s\"\nkill_after = \"4s\"\n";
  SpawnOptions spawn = options({"config", "show", "--timeout", "9s"});
  spawn.env.emplace_back("GUARDIAN_TIMEOUT", "7s");
  spawn.env.emplace_back("GUARDIAN_KILL_AFTER", "6s");
  GuardianProcess process(spawn);
  const RunResult result = process.wait(10s);
  ASSERT_EQ(result.exit_code, 0) << result.describe();
  EXPECT_NE(line_for(result, "run.timeout").find("9s"), std::string::npos) << result.out;
  const std::string kill_after = line_for(result, "run.kill_after");
  EXPECT_NE(kill_after.find("6s"), std::string::npos) << result.out;
  EXPECT_NE(kill_after.find("env GUARDIAN_KILL_AFTER"), std::string::npos) << result.out;
}

TEST_F(GuardianTest, ConfigValueFromTheFileIsUsedByRun) {
  std::ofstream(dir_ / "guardian.toml") << "[run]\ntimeout = \"300ms\"\n";
  const RunResult result = run(run_target({}, {"sleep", "30"}));
  EXPECT_EQ(result.exit_code, 124) << result.describe();
}

TEST_F(GuardianTest, FlagOverridesTheEnvironment) {
  SpawnOptions spawn = options(run_target({"--timeout", "20s"}, {"sleep", "0.5"}));
  spawn.env.emplace_back("GUARDIAN_TIMEOUT", "100ms");
  GuardianProcess process(spawn);
  const RunResult result = process.wait(20s);
  EXPECT_EQ(result.exit_code, 0) << result.describe();
}

TEST_F(GuardianTest, UnknownConfigKeyExits125WithFileLineKeyAndSuggestion) {
  std::ofstream(dir_ / "guardian.toml") << "[run]\ntimout = \"2s\"\n";
  const RunResult result = run(run_target({}, {"print-args", "started"}));
  ASSERT_EQ(result.exit_code, 125) << result.describe();
  EXPECT_EQ(result.out.find("started"), std::string::npos) << "the command ran";
  const auto lines = result.err_lines();
  ASSERT_EQ(lines.size(), 1u) << result.describe();
  const std::string& line = lines.front();
  EXPECT_TRUE(line.starts_with("guardian: ")) << line;
  EXPECT_NE(line.find("guardian.toml:2"), std::string::npos) << line;
  EXPECT_NE(line.find("timout"), std::string::npos) << line;
  EXPECT_NE(line.find("did you mean"), std::string::npos) << line;
  EXPECT_NE(line.find("timeout"), std::string::npos) << line;
}

TEST_F(GuardianTest, InvalidConfigValueExits125NamingTheFileLine) {
  std::ofstream(dir_ / "guardian.toml") << "mode = \"dev\"\n[run]\nkill_after = \"soon\"\n";
  const RunResult result = run(run_target({}, {"print-args", "started"}));
  ASSERT_EQ(result.exit_code, 125) << result.describe();
  EXPECT_EQ(result.out.find("started"), std::string::npos) << "the command ran";
  const auto lines = result.err_lines();
  ASSERT_EQ(lines.size(), 1u) << result.describe();
  EXPECT_TRUE(lines.front().starts_with("guardian: ")) << lines.front();
  EXPECT_NE(lines.front().find("guardian.toml:3"), std::string::npos) << lines.front();
  EXPECT_NE(lines.front().find("soon"), std::string::npos) << lines.front();
}

}  // namespace
}  // namespace guardian::testing
