// Hostile and careless input at the command line (issue 15): each refused at start with exit
// 125 and a line that says what to do, nothing started; run files private by default; secrets
// never printed by `config show`.
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "harness.hpp"

namespace guardian::testing {
namespace {

mode_t mode_of(const fs::path& path) {
  struct stat info {};
  EXPECT_EQ(::stat(path.c_str(), &info), 0) << path;
  return info.st_mode & 07777;
}

class HardeningTest : public GuardianTest {
 protected:
  // guardian refused the input before starting anything: 125, the hint on stderr, no run.
  void expect_refused(const RunResult& result, const std::string& hint) {
    EXPECT_EQ(result.exit_code, 125) << result.describe();
    EXPECT_NE(result.err.find(hint), std::string::npos) << result.describe();
    EXPECT_FALSE(fs::exists(dir_ / ".guardian" / "runs")) << "a run was started";
  }
};

TEST_F(HardeningTest, TimeoutBeyondTheTimersRangeIsRefusedAtStartNamingTheMaximum) {
  // It used to overflow the timer's nanoseconds and end the run at once with 124.
  const RunResult result = run(run_target({"--timeout", "110000d"}, {"sleep", "2"}));
  expect_refused(result, "36500d");
  EXPECT_NE(result.err.find("use a shorter one"), std::string::npos) << result.describe();
}

TEST_F(HardeningTest, TheLongestTimeoutLetsTheCommandFinish) {
  const RunResult result = run(run_target({"--timeout", "36500d"}, {"sleep", "1"}));
  EXPECT_EQ(result.exit_code, 0) << result.describe();
}

TEST_F(HardeningTest, ConfigThatIsNotARegularFileIsRefused) {
  expect_refused(run(run_target({"--config", dir_.string()}, {"exit", "0"})), "is a directory");
  expect_refused(run(run_target({"--config", "/dev/zero"}, {"exit", "0"})), "is a character device");
  expect_refused(run(run_target({"--config", "/dev/urandom"}, {"exit", "0"})), "is a character device");
}

TEST_F(HardeningTest, ConfigFifoWithoutWriterIsRefusedWithoutBlocking) {
  const fs::path fifo = dir_ / "guardian.fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const RunResult result = run(run_target({"--config", fifo.string()}, {"exit", "0"}), 10s);
  EXPECT_FALSE(result.deadline_hit) << "guardian blocked on the FIFO";
  expect_refused(result, "is a FIFO");
}

TEST_F(HardeningTest, UnreadableConfigSaysPermissionDenied) {
  const fs::path file = dir_ / "secret.toml";
  std::ofstream(file) << "[run]\ntimeout = \"5s\"\n";
  ASSERT_EQ(::chmod(file.c_str(), 0), 0);
  ASSERT_EQ(::chmod(dir_.c_str(), 0777), 0);  // the unprivileged guardian below must reach the file
  SpawnOptions spawn = options(run_target({"--config", file.string()}, {"exit", "0"}));
  if (::geteuid() == 0) {
    // root reads any file: run guardian as nobody, for whom the file is unreadable.
    spawn.args.insert(spawn.args.begin(), {"--reuid=65534", "--regid=65534", "--clear-groups", GUARDIAN_BIN});
    spawn.program = "/usr/bin/setpriv";
  }
  GuardianProcess process(spawn);
  const RunResult result = process.wait(10s);
  EXPECT_EQ(result.exit_code, 125) << result.describe();
  EXPECT_NE(result.err.find("permission denied"), std::string::npos) << result.describe();
  EXPECT_NE(result.err.find("chmod u+r"), std::string::npos) << result.describe();
}

TEST_F(HardeningTest, NonFiniteAndAbsurdCeilingsAreRefused) {
  expect_refused(run(run_target({"--cpu", "inf"}, {"exit", "0"})), "at most 65536 cores");
  expect_refused(run(run_target({"--cpu", "1e300"}, {"exit", "0"})), "at most 65536 cores");
  expect_refused(run(run_target({"--memory", "10000000T"}, {"exit", "0"})), "1048576T");
  std::ofstream(dir_ / "guardian.toml") << "[limits]\ncpu = \"inf\"\n";
  expect_refused(run(run_target({}, {"exit", "0"})), "guardian.toml:2");
}

TEST_F(HardeningTest, MisbehavingTomlIsRefusedWithThePlace) {
  std::ofstream(dir_ / "guardian.toml") << "''\xc6\x87(";
  expect_refused(run(run_target({}, {"exit", "0"})), "guardian.toml:1:3: not valid TOML");
  std::ofstream(dir_ / "guardian.toml") << "[=";
  expect_refused(run(run_target({}, {"exit", "0"})), "table header must start with a name");
}

TEST_F(HardeningTest, BadReportPathIsRefusedBeforeTheRun) {
  expect_refused(run(run_target({"--report", "/"}, {"exit", "0"})), "is a directory");
  expect_refused(run(run_target({"--report", (dir_ / "no-such-dir" / "r.json").string()}, {"exit", "0"})),
                 "does not exist");
}

TEST_F(HardeningTest, RunFilesArePrivateByDefault) {
  const RunResult result = run(run_target({}, {"exit", "0"}));
  ASSERT_EQ(result.exit_code, 0) << result.describe();
  const fs::path run_dir = only_run_dir(dir_);
  EXPECT_EQ(mode_of(run_dir), 0700u);
  EXPECT_EQ(mode_of(run_dir / "events.jsonl"), 0600u);
  EXPECT_EQ(mode_of(run_dir / "report.json"), 0600u);
}

TEST_F(HardeningTest, RunFilesCanBeShared) {
  SpawnOptions spawn = options(run_target({}, {"exit", "0"}));
  spawn.env.emplace_back("GUARDIAN_SHARED_RUN_FILES", "true");
  GuardianProcess process(spawn);
  const RunResult result = process.wait(20s);
  ASSERT_EQ(result.exit_code, 0) << result.describe();
  const fs::path run_dir = only_run_dir(dir_);
  EXPECT_EQ(mode_of(run_dir), 0755u);
  // The umask may narrow the files further; never wider than 0644.
  EXPECT_EQ(mode_of(run_dir / "report.json") & 0644u, mode_of(run_dir / "report.json"));
  EXPECT_NE(mode_of(run_dir / "report.json") & 0004u, 0u) << "umask of the test removed other-read";
}

TEST_F(HardeningTest, ConfigShowMasksSecrets) {
  std::ofstream(dir_ / "guardian.toml")
      << "[plugins.websocket]\nenabled = true\ntoken = \"s3cret-token\"\n"
      << "[plugins.webhook]\nenabled = true\nurl = \"https://alice:hunter2@hooks.example/x?token=abc123&team=a\"\n"
      << "headers = [\"Authorization: Bearer zzz999\", \"X-Team: blue\"]\n";
  for (const char* format : {"", "--json"}) {
    std::vector<std::string> args{"config", "show"};
    if (*format) args.emplace_back(format);
    const RunResult result = run(args);
    ASSERT_EQ(result.exit_code, 0) << result.describe();
    for (const char* secret : {"s3cret-token", "hunter2", "abc123", "zzz999"})
      EXPECT_EQ(result.out.find(secret), std::string::npos) << secret << " printed:\n" << result.out;
    for (const char* kept : {"****", "alice:****@hooks.example/x?token=****&team=a", "X-Team: blue"})
      EXPECT_NE(result.out.find(kept), std::string::npos) << kept << " missing:\n" << result.out;
  }
}

}  // namespace
}  // namespace guardian::testing
