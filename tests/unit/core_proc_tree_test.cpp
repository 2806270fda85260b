// /proc parsing on fixtures (real kernel stat lines) and a fake /proc tree; which processes
// belong to a run (TreeMembership), on the fake tree and on real processes.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child_processes.hpp"
#include "guardian/process/proc_tree.hpp"
#include "guardian/process/tree_membership.hpp"

using namespace guardian::process;
using namespace guardian::testing;
namespace fs = std::filesystem;

namespace {

// Copied from a real Debian 12 kernel 6.1 /proc/<pid>/stat.
constexpr const char* kRealStat =
    "20567 (cat) R 20564 20564 20481 0 -1 4194304 93 0 0 0 0 0 0 0 20 0 1 0 2534127 5582848 224 "
    "18446744073709551615 94598236753920 94598236772273 140725659911904 0 0 0 0 0 0 0 0 0 17 0 0 0 0 "
    "0 0 94598236787696 94598236789344 94598258593792 140725659918779 140725659918799 "
    "140725659918799 140725659926511 0\n";

class FakeProc {
 public:
  FakeProc() {
    root_ = fs::temp_directory_path() / ("guardian-fakeproc-" + std::to_string(::getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(root_);
  }
  ~FakeProc() { fs::remove_all(root_); }
  void add(pid_t pid, pid_t ppid, char state, std::vector<pid_t> children, std::string environ = {},
           int threads = 1) {
    auto dir = root_ / std::to_string(pid);
    fs::create_directories(dir / "task" / std::to_string(pid));
    std::ofstream(dir / "stat") << pid << " (proc " << pid << ") " << state << " " << ppid << " " << pid
                                << " 1 0 -1 0 0 0 0 0 7 3 0 0 20 0 " << threads << " 0 100 1000 250 0\n";
    std::string list;
    for (pid_t c : children) list += std::to_string(c) + " ";
    std::ofstream(dir / "task" / std::to_string(pid) / "children") << list;
    std::ofstream(dir / "environ", std::ios::binary) << environ;
  }
  const fs::path& root() const { return root_; }

 private:
  fs::path root_;
};

}  // namespace

TEST(ParseStat, ReadsARealKernelLine) {
  auto st = parse_stat(kRealStat);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->pid, 20567);
  EXPECT_EQ(st->state, 'R');
  EXPECT_EQ(st->ppid, 20564);
  EXPECT_EQ(st->pgid, 20564);
  EXPECT_EQ(st->sid, 20481);
  EXPECT_EQ(st->threads, 1);
  EXPECT_EQ(st->start_ticks, 2534127u);
  EXPECT_EQ(st->rss_pages, 224u);
  EXPECT_EQ(st->nice, 0);
}

TEST(ParseStat, CommandNamesWithSpacesAndParentheses) {
  auto st = parse_stat("42 (evil) name (x)) S 1 42 42 0 -1 0 0 0 0 0 11 22 0 0 20 5 3 0 99 0 77 0\n");
  ASSERT_TRUE(st);
  EXPECT_EQ(st->state, 'S');
  EXPECT_EQ(st->utime_ticks, 11u);
  EXPECT_EQ(st->stime_ticks, 22u);
  EXPECT_EQ(st->nice, 5);
  EXPECT_EQ(st->threads, 3);
  EXPECT_EQ(st->rss_pages, 77u);
}

TEST(ParseStat, ReadsTheWaitedForChildrensCpuTime) {
  auto st = parse_stat("42 (x) S 1 42 42 0 -1 0 0 0 0 0 11 22 33 44 20 5 3 0 99 0 77 0\n");
  ASSERT_TRUE(st);
  EXPECT_EQ(st->children_utime_ticks, 33u);
  EXPECT_EQ(st->children_stime_ticks, 44u);
}

// Lines from a real Debian 12 kernel 6.1 /proc/<pid>/status.
TEST(ParseStatusMemory, ReadsThePeakAndTheResidentSize) {
  auto memory = parse_status_memory(
      "Name:\tpython3\nUmask:\t0022\nState:\tS (sleeping)\nVmPeak:\t  350188 kB\nVmSize:\t   42352 kB\n"
      "VmLck:\t       0 kB\nVmPin:\t       0 kB\nVmHWM:\t  317492 kB\nVmRSS:\t   10220 kB\n"
      "RssAnon:\t    4096 kB\nThreads:\t1\n");
  ASSERT_TRUE(memory);
  EXPECT_EQ(memory->peak_rss_bytes, 317492u * 1024);
  EXPECT_EQ(memory->rss_bytes, 10220u * 1024);
  EXPECT_FALSE(parse_status_memory("Name:\tkthreadd\nState:\tS (sleeping)\nThreads:\t1\n"));
  EXPECT_FALSE(parse_status_memory("XVmHWM:\t1 kB\nVmRSS:\t2 kB\n"));
}

TEST(ParseStat, RejectsTruncatedLines) {
  EXPECT_FALSE(parse_stat("42 (x) S 1 2 3").has_value());
  EXPECT_FALSE(parse_stat("garbage").has_value());
}

TEST(ProcFs, ChildrenAndDescendantsSkipExcludedSubtrees) {
  FakeProc proc;
  proc.add(1, 0, 'S', {10, 20});
  proc.add(10, 1, 'S', {11});
  proc.add(11, 10, 'R', {});
  proc.add(20, 1, 'S', {21});
  proc.add(21, 20, 'S', {});
  ProcFs fs(proc.root());
  EXPECT_EQ(fs.children(1), (std::vector<pid_t>{10, 20}));
  EXPECT_EQ(fs.descendants(1), (std::vector<pid_t>{10, 20, 11, 21}));
  EXPECT_EQ(fs.descendants(1, {20}), (std::vector<pid_t>{10, 11}));
}

TEST(ProcFs, EnvironmentMatchesWholeEntriesOnly) {
  FakeProc proc;
  using namespace std::string_literals;
  proc.add(5, 1, 'S', {}, "A=1\0GUARDIAN_RUN_ID=abc\0B=2\0"s);
  ProcFs fs(proc.root());
  EXPECT_TRUE(fs.environment_contains(5, "GUARDIAN_RUN_ID=abc"));
  EXPECT_FALSE(fs.environment_contains(5, "GUARDIAN_RUN_ID=ab"));
  EXPECT_FALSE(fs.environment_contains(6, "GUARDIAN_RUN_ID=abc"));
}

TEST(TreeMembership, RootSubtreePlusMarkedOrphansButNotZombiesOrExcluded) {
  using namespace std::string_literals;
  FakeProc proc;
  // guardian (100) has: the command (200, with a child 201 and a zombie 202), a marked
  // escapee (300, adopted), an unmarked stranger (400) and the sentinel (500).
  proc.add(100, 1, 'S', {200, 300, 400, 500});
  proc.add(200, 100, 'S', {201, 202}, "GUARDIAN_RUN_ID=r\0"s);
  proc.add(201, 200, 'R', {}, "GUARDIAN_RUN_ID=r\0"s);
  proc.add(202, 200, 'Z', {});
  proc.add(300, 100, 'S', {301}, "GUARDIAN_RUN_ID=r\0"s);
  proc.add(301, 300, 'S', {});
  proc.add(400, 100, 'S', {}, "OTHER=1\0"s);
  proc.add(500, 100, 'S', {}, "GUARDIAN_RUN_ID=r\0"s);
  TreeMembership membership(ProcFs(proc.root()), 100, "GUARDIAN_RUN_ID=r");
  membership.set_root(200);
  membership.exclude_subtree(500);
  auto members = membership.live_members();
  std::sort(members.begin(), members.end());
  EXPECT_EQ(members, (std::vector<pid_t>{200, 201, 300, 301}));

  membership.claim_unmarked_orphans(true);  // the run's last sweep takes everything under guardian
  members = membership.live_members();
  std::sort(members.begin(), members.end());
  EXPECT_EQ(members, (std::vector<pid_t>{200, 201, 300, 301, 400}));
}

TEST(TreeMembership, CachedSamplesFindTheSameMembersAsAFreshWalk) {
  pid_t child = start_sleeper_with_child();
  ProcFs proc;
  wait_for_children_listed(proc, child);
  TreeMembership membership(proc, ::getpid(), "GUARDIAN_TEST_MARKER=none");
  membership.set_root(child);
  for (int i = 0; i < 3; ++i) {
    std::vector<pid_t> sampled;
    for (const auto& st : membership.live_member_stats()) sampled.push_back(st.pid);
    EXPECT_EQ(sampled, membership.live_members());
    EXPECT_EQ(sampled.size(), 2u);
  }
  TreeMembership copy = membership;  // a copy walks with its own cache
  EXPECT_EQ(copy.live_member_stats().size(), 2u);
  ::kill(-child, SIGKILL);
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
}

TEST(TreeMembership, AnOrphanAdoptedByASleepingSubreaperIsStillAMember) {
  // subreaper (sleeps, never runs again) → middle (waits on a pipe, then exits) → orphan.
  // When the middle process ends, the orphan joins the subreaper's children list although
  // the subreaper did not run: a remembered list would miss it.
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  pid_t subreaper = ::fork();
  if (subreaper == 0) {
    ::setpgid(0, 0);
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
    if (::fork() == 0) {
      ::close(fds[1]);
      if (::fork() == 0) {
        ::pause();
        ::_exit(0);
      }
      char byte;
      (void)::read(fds[0], &byte, 1);
      ::_exit(0);
    }
    ::pause();  // the middle one's SIGCHLD is ignored by default: it does not wake this
    ::_exit(0);
  }
  ::setpgid(subreaper, subreaper);
  ::close(fds[0]);
  KillGroupAtExit kill_group{subreaper};
  ProcFs proc;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (proc.descendants(subreaper).size() < 2 && std::chrono::steady_clock::now() < deadline) ::usleep(2000);
  ASSERT_EQ(proc.descendants(subreaper).size(), 2u);
  ::usleep(50000);  // all three asleep
  TreeMembership membership(proc, ::getpid(), "GUARDIAN_TEST_MARKER=none");
  membership.set_root(subreaper);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(membership.live_member_stats().size(), 3u);

  const pid_t middle = proc.children(subreaper).at(0);
  const pid_t orphan = proc.children(middle).at(0);
  ASSERT_EQ(::write(fds[1], "x", 1), 1);  // the middle one ends; nobody reaps it
  while (proc.stat(middle)->state != 'Z' && std::chrono::steady_clock::now() < deadline) ::usleep(2000);
  ASSERT_EQ(proc.stat(orphan)->ppid, subreaper) << "the orphan was not adopted by the subreaper";
  ASSERT_EQ(proc.stat(subreaper)->state, 'S');
  for (int i = 0; i < 3; ++i) {
    std::vector<pid_t> sampled;
    for (const auto& st : membership.live_member_stats()) sampled.push_back(st.pid);
    std::sort(sampled.begin(), sampled.end());
    EXPECT_EQ(sampled, (std::vector<pid_t>{std::min(subreaper, orphan), std::max(subreaper, orphan)})) << "walk " << i;
  }
  ::close(fds[1]);
}
