// The switch that turns off the auto-injected pytest plugin (--no-pytest-plugin,
// GUARDIAN_NO_PYTEST_PLUGIN, adapters.pytest.disabled): the command's environment is left
// exactly as it was, and pytest runs without guardian's events.
#include <fstream>

#include "harness.hpp"

namespace guardian::testing {
namespace {

const fs::path kSuite = fs::path(GUARDIAN_SOURCE_DIR) / "examples" / "pytest-suite";

class AdaptersPytestInject : public GuardianTest {
 protected:
  RunResult print_env(std::vector<std::string> flags, std::vector<std::pair<std::string, std::string>> env = {}) {
    std::vector<std::string> args{"run", "--quiet"};
    args.insert(args.end(), flags.begin(), flags.end());
    args.emplace_back("--");
    args.push_back(target_bin());
    for (auto item : {"print-env", "PYTEST_ADDOPTS", "GUARDIAN_EVENTS_SOCKET", "PYTHONPATH"}) args.emplace_back(item);
    SpawnOptions spawn = options(args);
    spawn.env.insert(spawn.env.end(), env.begin(), env.end());
    GuardianProcess process(spawn);
    return process.wait(20s);
  }
};

TEST_F(AdaptersPytestInject, InjectedByDefault) {
  auto result = print_env({}, {{"PYTEST_ADDOPTS", "-x"}});
  ASSERT_EQ(result.exit_code, 0) << result.describe();
  auto lines = result.out_lines();
  ASSERT_EQ(lines.size(), 3u) << result.out;
  EXPECT_EQ(lines[0], "-x -p guardian_pytest");  // the user's options first, ours appended
  EXPECT_TRUE(lines[1].ends_with(".sock")) << lines[1];
  EXPECT_NE(lines[2].find("adapters/pytest"), std::string::npos) << lines[2];
}

TEST_F(AdaptersPytestInject, FlagVariableAndFileTurnItOff) {
  auto by_flag = print_env({"--no-pytest-plugin"}, {{"PYTEST_ADDOPTS", "-x"}, {"PYTHONPATH", "/mine"}});
  EXPECT_EQ(by_flag.exit_code, 1) << by_flag.describe();  // print-env: GUARDIAN_EVENTS_SOCKET is not set
  EXPECT_EQ(by_flag.out, "-x\n\n/mine\n") << by_flag.describe();

  auto by_variable = print_env({}, {{"GUARDIAN_NO_PYTEST_PLUGIN", "true"}});
  EXPECT_EQ(by_variable.out, "\n\n\n") << by_variable.describe();

  std::ofstream(dir_ / "guardian.toml") << "[adapters.pytest]\ndisabled = true\n";
  auto by_file = print_env({});
  EXPECT_EQ(by_file.out, "\n\n\n") << by_file.describe();
}

TEST_F(AdaptersPytestInject, PytestRunsWithoutEventsWhenOff) {
  auto result = run({"run", "--no-pytest-plugin", "--report", report_copy_path().string(), "--", "/usr/bin/python3",
                     "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", kSuite.string(),
                     (kSuite / "test_basic.py").string()},
                    60s);
  EXPECT_EQ(result.exit_code, 1) << result.describe();
  EXPECT_FALSE(report().contains("tests")) << report().dump(2);
  EXPECT_EQ(report()["alerts"]["emitted"], 0);
}

}  // namespace
}  // namespace guardian::testing
