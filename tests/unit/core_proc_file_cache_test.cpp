// ProcFileCache on real processes: the files stay open between walks, and what a process
// that has not run since the last walk says (its stat, its children) is the one read before.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child_processes.hpp"
#include "guardian/process/proc_file_cache.hpp"
#include "guardian/process/proc_tree.hpp"

using namespace guardian::process;
using namespace guardian::testing;

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

// A child that touches `megabytes` more memory each time it is woken.
WakeableChild growing_sleeper(int megabytes) {
  const std::size_t bytes = static_cast<std::size_t>(megabytes) << 20;
  return WakeableChild([bytes] {
    // volatile: the block is never read, and the compiler may drop writes nobody reads.
    auto* block = static_cast<volatile char*>(std::malloc(bytes));
    for (std::size_t i = 0; i < bytes; i += 4096) block[i] = 1;
  });
}

std::uint64_t rss_pages_now(pid_t pid) {  // read afresh
  auto st = ProcFs().stat(pid);
  return st ? st->rss_pages : 0;
}

}  // namespace

TEST(ProcFileCache, ASleepingProcessIsNotReadAgainUntilItRuns) {
  WakeableChild sleeper = growing_sleeper(16);
  ::usleep(50000);  // let it reach its read()
  ProcFileCache cache{ProcFs()};
  cache.begin_walk();
  auto first = cache.stat(sleeper.pid());
  ASSERT_TRUE(first);
  for (int i = 0; i < 3; ++i) {
    auto again = cache.stat(sleeper.pid());
    ASSERT_TRUE(again);
    EXPECT_EQ(again->rss_pages, first->rss_pages);
  }
  EXPECT_GE(cache.reused_stats(), 2u) << "its schedstat did not move: the stat read before still holds";

  // It wakes, touches 16 MiB and sleeps again: the next read sees that at once.
  const std::uint64_t reused_before = cache.reused_stats();
  ASSERT_TRUE(sleeper.wake());
  const std::uint64_t touched = first->rss_pages + (16u << 20) / static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
  for (int i = 0; i < 500 && rss_pages_now(sleeper.pid()) < touched; ++i) ::usleep(2000);
  ASSERT_GE(rss_pages_now(sleeper.pid()), touched) << "the child never touched its memory";
  auto after = cache.stat(sleeper.pid());
  ASSERT_TRUE(after);
  EXPECT_GE(after->rss_pages, touched) << "a stale stat from before it ran";
  EXPECT_EQ(cache.reused_stats(), reused_before);
  cache.end_walk();
}

TEST(ProcFileCache, AReusedStatIsRefreshedAfterAFewSamples) {
  WakeableChild sleeper = growing_sleeper(1);
  ::usleep(50000);
  ProcFileCache cache{ProcFs()};
  ASSERT_TRUE(cache.stat(sleeper.pid()));
  ASSERT_TRUE(cache.stat(sleeper.pid()));  // sets the schedstat baseline
  const std::uint64_t base = cache.reused_stats();
  for (unsigned i = 0; i < 3 * (ProcFileCache::kMaxReuses + 1); ++i) ASSERT_TRUE(cache.stat(sleeper.pid()));
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
  // 900 children: their pids take more than the 4 KiB one read returns. The 901 processes
  // are one group, killed whatever the outcome.
  WakeableChild forker(
      [] {
        for (int i = 0; i < 900; ++i)
          if (::fork() == 0) {
            ::pause();
            ::_exit(0);
          }
      },
      true);
  ASSERT_TRUE(forker.wake());
  const pid_t parent = forker.pid();
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

namespace {

// A parent, in its own group, that forks one more child (sleeping until killed) each time
// it is woken.
WakeableChild forking_sleeper() {
  return WakeableChild(
      [] {
        if (::fork() == 0) {
          ::pause();
          ::_exit(0);
        }
      },
      true);
}

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
  WakeableChild parent = forking_sleeper();
  ASSERT_TRUE(parent.wake());
  wait_for_children_listed(proc, parent.pid());
  ::usleep(50000);  // let it block in read() again
  ProcFileCache cache(proc);
  for (int walk = 0; walk < 4; ++walk) EXPECT_EQ(walk_children(cache, parent.pid()), proc.children(parent.pid()));
  EXPECT_GE(cache.reused_children_lists(), 2u) << "it did not run: its list cannot have grown";

  // It wakes and forks a second child: the next walk reads the list again and sees it.
  ASSERT_TRUE(parent.wake());
  for (int i = 0; i < 500 && proc.children(parent.pid()).size() < 2; ++i) ::usleep(2000);
  ASSERT_EQ(proc.children(parent.pid()).size(), 2u);
  const std::uint64_t reused_before = cache.reused_children_lists();
  EXPECT_EQ(walk_children(cache, parent.pid()), proc.children(parent.pid()));
  EXPECT_EQ(cache.reused_children_lists(), reused_before);
}
