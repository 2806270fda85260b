// guardian config: `config show` reports each value's origin, and a bad key in a
// config file stops the run with file, line, key and a suggestion.
#include <fstream>

#include "harness.hpp"

namespace guardian::testing {
namespace {

// The line of `config show` output that mentions `key`, or "".
std::string line_for(const RunResult& result, const std::string& key) {
  for (const auto& line : result.out_lines())
    if (line.find(key) != std::string::npos) return line;
  return "";
}

TEST_F(GuardianTest, ConfigShowNamesTheOriginOfEachValue) {
  std::ofstream(dir_ / "guardian.toml") << "# project settings\n[run]\nkill_after = \"3s\"\n";
  SpawnOptions spawn = options({"config", "show"});
  spawn.env.emplace_back("GUARDIAN_TIMEOUT", "7s");
  GuardianProcess process(spawn);
  const RunResult result = process.wait(10s);
  ASSERT_EQ(result.exit_code, 0) << result.describe();

  const std::string kill_after = line_for(result, "kill_after");
  EXPECT_NE(kill_after.find("3s"), std::string::npos) << result.out;
  EXPECT_NE(kill_after.find("guardian.toml:3"), std::string::npos) << result.out;

  const std::string timeout = line_for(result, "run.timeout");
  EXPECT_NE(timeout.find("7s"), std::string::npos) << result.out;
  EXPECT_NE(timeout.find("GUARDIAN_TIMEOUT"), std::string::npos) << result.out;

  const std::string mode = line_for(result, "mode");
  EXPECT_NE(mode.find("dev"), std::string::npos) << result.out;
  EXPECT_NE(mode.find("default"), std::string::npos) << result.out;
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
