// The harness's own checks can fail: a marked process that outlives its test is
// found, and a guardian that hangs is killed at the deadline.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.hpp"

namespace guardian::testing {
namespace {

TEST(HarnessSelfTest, FindsALiveProcessCarryingTheMarker) {
  const std::string marker = "harness-self-test-" + std::to_string(getpid());
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const std::string variable = std::string(kMarkerVariable) + "=" + marker;
    const std::string program = target_bin();
    char* const argv[] = {const_cast<char*>(program.c_str()), const_cast<char*>("sleep"),
                          const_cast<char*>("10"), nullptr};
    char* const envp[] = {const_cast<char*>(variable.c_str()), nullptr};
    execve(argv[0], argv, envp);
    _exit(127);
  }
  bool found = false;
  for (int attempt = 0; attempt < 100 && !found; ++attempt) {
    for (const auto& process : processes_with_marker(marker)) found = found || process.pid == pid;
    if (!found) usleep(20'000);
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  EXPECT_TRUE(found) << "the orphan scan did not see pid " << pid;
  EXPECT_TRUE(processes_with_marker(marker).empty()) << "a reaped process is still listed";
}

}  // namespace
}  // namespace guardian::testing
