// `guardian runs`: the runs recorded in .guardian/runs read back (issue 16) — a list, one run's
// report, and across runs the flaky candidates of a real pytest suite.
#include <fstream>
#include <set>

#include "harness.hpp"

namespace guardian::testing {
namespace {

class RunsCommand : public GuardianTest {
 protected:
  Json runs_json(std::vector<std::string> args) const {
    args.insert(args.begin(), "runs");
    args.emplace_back("--json");
    auto result = run(args);
    EXPECT_EQ(result.exit_code, 0) << result.describe();
    auto parsed = Json::parse(result.out, nullptr, false);
    EXPECT_FALSE(parsed.is_discarded()) << result.out;
    return parsed;
  }
};

TEST_F(RunsCommand, ListsEveryRunAndShowsOne) {
  for (const char* code : {"0", "3", "0"}) run(run_target({"--quiet"}, {"exit", code}));
  auto runs = runs_json({});
  ASSERT_EQ(runs.size(), 3u) << runs.dump(2);
  std::multiset<int> codes;
  for (const auto& entry : runs) {
    codes.insert(entry["exit_code"].get<int>());
    EXPECT_GT(entry["peak_memory_bytes"].get<std::uint64_t>(), 0u) << entry.dump();
    EXPECT_NE(entry["command"].get<std::string>().find("guardian-target exit"), std::string::npos) << entry.dump();
  }
  EXPECT_EQ(codes, (std::multiset<int>{0, 0, 3}));

  auto text = run({"runs"});
  ASSERT_EQ(text.exit_code, 0) << text.describe();
  EXPECT_EQ(text.out_lines().size(), 4u) << text.out;  // a header and three runs

  const std::string id = runs[1]["run_id"];
  auto shown = run({"runs", "show", id.substr(id.size() - 6)});  // the random end is enough
  ASSERT_EQ(shown.exit_code, 0) << shown.describe();
  EXPECT_NE(shown.out.find(id), std::string::npos) << shown.out;
  auto missing = run({"runs", "show", "no-such-run"});
  EXPECT_EQ(missing.exit_code, 125) << missing.describe();
  EXPECT_NE(missing.err.find("guardian runs"), std::string::npos) << missing.describe();
}

TEST_F(RunsCommand, TestThatFailsThenPassesIsAFlakyCandidate) {
  std::ofstream(dir_ / "test_sometimes.py")
      << "import pathlib\n"
         "def test_steady():\n    pass\n"
         "def test_flaky():\n"
         "    marker = pathlib.Path(__file__).parent / 'ran-once'\n"
         "    first = not marker.exists()\n"
         "    marker.touch()\n"
         "    assert not first, 'fails the first time only'\n";
  const std::vector<std::string> pytest{"run", "--quiet", "--", "/usr/bin/python3", "-m", "pytest", "-q", "-p",
                                        "no:cacheprovider", (dir_ / "test_sometimes.py").string()};
  EXPECT_EQ(run(pytest, 60s).exit_code, 1);
  EXPECT_EQ(run(pytest, 60s).exit_code, 0);
  auto history = runs_json({"tests"});
  EXPECT_EQ(history["runs_with_tests"], 2) << history.dump(2);
  ASSERT_EQ(history["flaky"].size(), 1u) << history.dump(2);
  EXPECT_EQ(history["flaky"][0]["nodeid"], "test_sometimes.py::test_flaky");
  EXPECT_EQ(history["flaky"][0]["passed"], 1);
  EXPECT_EQ(history["flaky"][0]["failed"], 1);
  EXPECT_EQ(history["expensive"].size(), 2u) << history.dump(2);
}

}  // namespace
}  // namespace guardian::testing
