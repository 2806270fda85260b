// ProcessWalker's open files and IO on real processes: a sleeping process's are read once and
// reused; one that ran is read again at once.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

#include <gtest/gtest.h>

#include "child_processes.hpp"
#include "guardian/monitor/process_walk.hpp"

namespace guardian::monitor {
namespace {

using guardian::testing::WakeableChild;

// A child that opens 10 more descriptors each time it is woken. (Its open descriptors witness
// the reuse; its IO, reused under the same rule, counts storage bytes, which a test cannot
// cause reliably on every filesystem.)
WakeableChild opening_sleeper() {
  return WakeableChild([] {
    for (int i = 0; i < 10; ++i) (void)!::open("/dev/zero", O_RDONLY);
  });
}

std::uint64_t fds_now(const HostReader& host, pid_t pid) { return host.open_fds(pid).value_or(0); }

TEST(ProcessWalker, ASleepingProcessesFilesAndIoAreReusedUntilItRuns) {
  WakeableChild sleeper = opening_sleeper();
  ::usleep(50000);  // let it block in read()
  process::TreeMembership members(process::ProcFs(), ::getpid(), "GUARDIAN_TEST_MARKER=none");
  members.set_root(sleeper.pid());
  ProcessWalker walker(members);
  const HostReader& host = walker.host();
  const std::uint64_t fds_at_start = fds_now(host, sleeper.pid());
  ASSERT_GT(fds_at_start, 0u);

  auto now = SteadyTime{};
  TreeWalk walk;
  for (int i = 0; i < 4; ++i) {
    now += std::chrono::seconds(1);
    walk = walker.walk(now, 1.0, 1u << 30, true);
    ASSERT_EQ(walk.processes.size(), 1u);
    EXPECT_EQ(walk.open_fds, fds_at_start);
  }
  EXPECT_GE(walker.reused_files(), 2u) << "it did not run: what it had open cannot have changed";

  // It wakes and opens 10 descriptors: the next walk reads them again.
  const std::uint64_t reused_before = walker.reused_files();
  ASSERT_TRUE(sleeper.wake());
  for (int i = 0; i < 500 && fds_now(host, sleeper.pid()) < fds_at_start + 10; ++i) ::usleep(2000);
  ASSERT_EQ(fds_now(host, sleeper.pid()), fds_at_start + 10);
  ::usleep(50000);  // asleep again
  now += std::chrono::seconds(1);
  walk = walker.walk(now, 1.0, 1u << 30, true);
  EXPECT_EQ(walk.open_fds, fds_at_start + 10) << "open files from before it ran";
  EXPECT_EQ(walker.reused_files(), reused_before);

  // Reused at most kMaxReuses times in a row: then read again all the same.
  for (unsigned i = 0; i < 3 * (process::ProcFileCache::kMaxReuses + 1); ++i) {
    now += std::chrono::seconds(1);
    walker.walk(now, 1.0, 1u << 30, true);
  }
  EXPECT_LT(walker.reused_files() - reused_before, 3 * (process::ProcFileCache::kMaxReuses + 1));
}

}  // namespace
}  // namespace guardian::monitor
