// guardian raises its own open-file limit (its samplers keep the tree's /proc files open)
// but the command must start with the limit guardian was given: a raised soft limit breaks
// programs that still select() on descriptors below 1 024.
#include <iterator>
#include <sstream>

#include "harness.hpp"

namespace guardian::testing {
namespace {

TEST_F(GuardianTest, TheCommandGetsTheOpenFileLimitGuardianWasGivenWhileGuardianRaisesItsOwn) {
  SpawnOptions spawn = options({"--nofile=512:8192", guardian_bin(), "run", "--", "/bin/sh", "-c",
                                "ulimit -Sn; ulimit -Hn; grep 'Max open files' /proc/$PPID/limits"});
  spawn.program = "/usr/bin/prlimit";  // util-linux: starts guardian with a low soft limit
  GuardianProcess process(spawn);
  const RunResult result = process.wait(20s);
  ASSERT_EQ(result.exit_code, 0) << result.describe();
  const auto lines = result.out_lines();
  ASSERT_EQ(lines.size(), 3u) << result.out;
  EXPECT_EQ(lines[0], "512") << "the command's soft limit";
  EXPECT_EQ(lines[1], "8192") << "the command's hard limit";
  // guardian (the command's parent) runs with its soft limit raised to the hard one.
  std::istringstream words(lines[2]);
  const std::vector<std::string> fields{std::istream_iterator<std::string>(words), {}};
  EXPECT_EQ(fields, (std::vector<std::string>{"Max", "open", "files", "8192", "8192", "files"})) << lines[2];
}

}  // namespace
}  // namespace guardian::testing
