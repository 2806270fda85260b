// /proc parsing on fixtures (real kernel stat lines) and a fake /proc tree.
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

#include "guardian/process/proc_file_cache.hpp"
#include "guardian/process/proc_tree.hpp"
#include "guardian/process/tree_membership.hpp"

using namespace guardian::process;
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

// --- ProcFileCache on real processes ------------------------------------------------------

namespace {

// A child that sleeps until killed, with one grandchild doing the same, in its own group.
pid_t start_sleeper_with_child() {
  pid_t pid = ::fork();
  if (pid == 0) {
    ::setpgid(0, 0);  // its own group, so the test can kill both at once
    if (::fork() == 0) {
      ::pause();
      ::_exit(0);
    }
    ::pause();
    ::_exit(0);
  }
  return pid;
}

void wait_for_children_listed(const ProcFs& proc, pid_t pid) {
  for (int i = 0; i < 500 && proc.children(pid).empty(); ++i) ::usleep(2000);
}

}  // namespace

TEST(ProcFileCache, ReadsWhatAFreshReadSeesAndKeepsTheFilesOpenBetweenWalks) {
  ProcFs proc;
  pid_t child = start_sleeper_with_child();
  wait_for_children_listed(proc, child);
  ProcFileCache cache(proc);
  for (int walk = 0; walk < 3; ++walk) {
    cache.begin_walk();
    auto cached = cache.stat(child);
    auto fresh = proc.stat(child);
    ASSERT_TRUE(cached && fresh);
    EXPECT_EQ(cached->pid, fresh->pid);
    EXPECT_EQ(cached->start_ticks, fresh->start_ticks);
    EXPECT_EQ(cached->ppid, ::getpid());
    EXPECT_EQ(cache.children(child, cached->threads), proc.children(child));
    EXPECT_EQ(cache.children(child, cached->threads).size(), 1u);
    cache.end_walk();
    EXPECT_EQ(cache.cached_processes(), 1u);
  }
  ::kill(-child, SIGKILL);
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  // The descriptor belongs to the dead process: it is not trusted, the pid is read afresh.
  cache.begin_walk();
  EXPECT_FALSE(cache.stat(child).has_value());
  cache.end_walk();
  // A walk that no longer meets a process closes its files.
  cache.begin_walk();
  cache.end_walk();
  EXPECT_EQ(cache.cached_processes(), 0u);
}

TEST(ProcFileCache, ATreeLargerThanTheCapIsReadUncachedBeyondIt) {
  ProcFs proc;
  ProcFileCache cache(proc, 3);
  cache.begin_walk();
  std::size_t read = 0;
  for (pid_t pid : proc.all_pids()) {
    auto cached = cache.stat(pid);
    auto fresh = proc.stat(pid);
    if (!cached || !fresh) continue;  // gone in between
    EXPECT_EQ(cached->start_ticks, fresh->start_ticks) << pid;
    if (++read == 10) break;
  }
  EXPECT_EQ(read, 10u);
  EXPECT_EQ(cache.cached_processes(), 3u);
  cache.end_walk();
}

namespace {

// A child blocked reading a pipe; each byte written wakes it to touch `megabytes` more
// memory, then it blocks again.
struct GrowingSleeper {
  pid_t pid = -1;
  int wake = -1;
  explicit GrowingSleeper(int megabytes) {
    int fds[2];
    if (::pipe(fds) != 0) std::abort();
    pid = ::fork();
    if (pid == 0) {
      ::close(fds[1]);
      char byte;
      while (::read(fds[0], &byte, 1) == 1) {
        auto* block = static_cast<char*>(std::malloc(static_cast<std::size_t>(megabytes) << 20));
        for (std::size_t i = 0; i < (static_cast<std::size_t>(megabytes) << 20); i += 4096) block[i] = 1;
      }
      ::_exit(0);
    }
    ::close(fds[0]);
    wake = fds[1];
  }
  ~GrowingSleeper() {
    ::close(wake);
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
};

std::uint64_t rss_pages_now(pid_t pid) {  // read afresh
  auto st = ProcFs().stat(pid);
  return st ? st->rss_pages : 0;
}

}  // namespace

TEST(ProcFileCache, ASleepingProcessIsNotReadAgainUntilItRuns) {
  GrowingSleeper sleeper(16);
  ::usleep(50000);  // let it reach its read()
  ProcFileCache cache{ProcFs()};
  cache.begin_walk();
  auto first = cache.stat(sleeper.pid);
  ASSERT_TRUE(first);
  for (int i = 0; i < 3; ++i) {
    auto again = cache.stat(sleeper.pid);
    ASSERT_TRUE(again);
    EXPECT_EQ(again->rss_pages, first->rss_pages);
  }
  EXPECT_GE(cache.reused_stats(), 2u) << "its schedstat did not move: the stat read before still holds";

  // It wakes, touches 16 MiB and sleeps again: the next read sees that at once.
  const std::uint64_t reused_before = cache.reused_stats();
  ASSERT_EQ(::write(sleeper.wake, "x", 1), 1);
  const std::uint64_t touched = first->rss_pages + (16u << 20) / static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
  for (int i = 0; i < 500 && rss_pages_now(sleeper.pid) < touched; ++i) ::usleep(2000);
  ASSERT_GE(rss_pages_now(sleeper.pid), touched) << "the child never touched its memory";
  auto after = cache.stat(sleeper.pid);
  ASSERT_TRUE(after);
  EXPECT_GE(after->rss_pages, touched) << "a stale stat from before it ran";
  EXPECT_EQ(cache.reused_stats(), reused_before);
  cache.end_walk();
}

TEST(ProcFileCache, AReusedStatIsRefreshedAfterAFewSamples) {
  GrowingSleeper sleeper(1);
  ::usleep(50000);
  ProcFileCache cache{ProcFs()};
  ASSERT_TRUE(cache.stat(sleeper.pid));
  ASSERT_TRUE(cache.stat(sleeper.pid));  // sets the schedstat baseline
  const std::uint64_t base = cache.reused_stats();
  for (unsigned i = 0; i < 3 * (ProcFileCache::kMaxReuses + 1); ++i) ASSERT_TRUE(cache.stat(sleeper.pid));
  // Of every kMaxReuses + 1 reads, one goes to the kernel.
  EXPECT_EQ(cache.reused_stats() - base, 3 * ProcFileCache::kMaxReuses);
}

TEST(ProcFileCache, ARunningProcessIsReadAfreshWheneverItRan) {
  pid_t spinner = ::fork();
  if (spinner == 0) {
    while (true) {
    }
  }
  ProcFs proc;
  ProcFileCache cache(proc);
  auto first = cache.stat(spinner);
  ASSERT_TRUE(first);
  for (int i = 0; i < 20; ++i) {
    ::usleep(10000);
    ASSERT_TRUE(cache.stat(spinner));
  }
  // Stopped, it no longer runs: what the cache says now must be exactly what the kernel
  // says, its state included (stopping is the last thing it ran).
  ::kill(spinner, SIGSTOP);
  for (int i = 0; i < 500 && proc.stat(spinner)->state != 'T'; ++i) ::usleep(2000);
  auto cached = cache.stat(spinner);
  auto fresh = proc.stat(spinner);
  ASSERT_TRUE(cached && fresh);
  EXPECT_EQ(cached->state, 'T');
  EXPECT_EQ(cached->utime_ticks + cached->stime_ticks, fresh->utime_ticks + fresh->stime_ticks);
  EXPECT_GT(cached->utime_ticks + cached->stime_ticks, first->utime_ticks + first->stime_ticks);
  // A single-threaded process's CPU time comes in nanoseconds too, the same time as its ticks.
  ASSERT_TRUE(cached->run_time_ns);
  const double tick_ms = 1000.0 / static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double ticks_ms = static_cast<double>(cached->utime_ticks + cached->stime_ticks) * tick_ms;
  EXPECT_NEAR(static_cast<double>(*cached->run_time_ns) / 1e6, ticks_ms, 3 * tick_ms);
  EXPECT_EQ(cpu_usec(*cached), *cached->run_time_ns / 1000);
  ::kill(spinner, SIGKILL);
  ::waitpid(spinner, nullptr, 0);
}

TEST(ProcFileCache, AChildrenListLongerThanOneReadIsReadWhole) {
  // 900 children: their pids take more than the 4 KiB one read returns.
  pid_t parent = ::fork();
  if (parent == 0) {
    ::setpgid(0, 0);
    for (int i = 0; i < 900; ++i)
      if (::fork() == 0) {
        ::pause();
        ::_exit(0);
      }
    ::pause();
    ::_exit(0);
  }
  ::setpgid(parent, parent);  // from both sides: the group exists before kill(-parent) below
  // The 901 processes go, whatever the outcome: a failed assertion must not leave them holding
  // the test's output open (ctest then waits for them until its timeout).
  struct KillGroup {
    pid_t leader;
    ~KillGroup() {
      ::kill(-leader, SIGKILL);
      ::waitpid(leader, nullptr, 0);
    }
  } kill_group{parent};
  ProcFs proc;
  // 900 forks take seconds under AddressSanitizer on a busy machine (572 after 5 s once).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (proc.children(parent).size() < 900 && std::chrono::steady_clock::now() < deadline) ::usleep(5000);
  const auto fresh = proc.children(parent);
  ASSERT_EQ(fresh.size(), 900u);
  ProcFileCache cache(proc);
  cache.begin_walk();
  auto st = cache.stat(parent);
  ASSERT_TRUE(st);
  EXPECT_EQ(cache.children(parent, st->threads), fresh);
  std::vector<pid_t> ours;
  cache.append_children_of_every_thread(::getpid(), ours);
  EXPECT_NE(std::find(ours.begin(), ours.end(), parent), ours.end());
  cache.end_walk();
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

namespace {

// A parent blocked reading a pipe, in its own group; each byte written wakes it to fork one
// more child that sleeps until killed.
struct ForkingSleeper {
  pid_t pid = -1;
  int wake = -1;
  ForkingSleeper() {
    int fds[2];
    if (::pipe(fds) != 0) std::abort();
    pid = ::fork();
    if (pid == 0) {
      ::setpgid(0, 0);
      ::close(fds[1]);
      char byte;
      while (::read(fds[0], &byte, 1) == 1)
        if (::fork() == 0) {
          ::pause();
          ::_exit(0);
        }
      ::pause();
      ::_exit(0);
    }
    ::setpgid(pid, pid);
    ::close(fds[0]);
    wake = fds[1];
  }
  ~ForkingSleeper() {
    ::close(wake);
    ::kill(-pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
};

std::vector<pid_t> walk_children(ProcFileCache& cache, pid_t pid) {
  cache.begin_walk();
  auto st = cache.stat(pid);
  std::vector<pid_t> out;
  if (st) cache.append_children(pid, st->threads, out);
  cache.end_walk();
  return out;
}

}  // namespace

TEST(ProcFileCache, ASleepingParentsChildrenListIsTheOneReadBeforeUntilItRuns) {
  ProcFs proc;
  ForkingSleeper parent;
  ASSERT_EQ(::write(parent.wake, "x", 1), 1);
  wait_for_children_listed(proc, parent.pid);
  ::usleep(50000);  // let it block in read() again
  ProcFileCache cache(proc);
  for (int walk = 0; walk < 4; ++walk) EXPECT_EQ(walk_children(cache, parent.pid), proc.children(parent.pid));
  EXPECT_GE(cache.reused_children_lists(), 2u) << "it did not run: its list cannot have grown";

  // It wakes and forks a second child: the next walk reads the list again and sees it.
  ASSERT_EQ(::write(parent.wake, "x", 1), 1);
  for (int i = 0; i < 500 && proc.children(parent.pid).size() < 2; ++i) ::usleep(2000);
  ASSERT_EQ(proc.children(parent.pid).size(), 2u);
  const std::uint64_t reused_before = cache.reused_children_lists();
  EXPECT_EQ(walk_children(cache, parent.pid), proc.children(parent.pid));
  EXPECT_EQ(cache.reused_children_lists(), reused_before);
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
  struct KillGroup {
    pid_t leader;
    ~KillGroup() {
      ::kill(-leader, SIGKILL);
      ::waitpid(leader, nullptr, 0);
    }
  } kill_group{subreaper};
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
