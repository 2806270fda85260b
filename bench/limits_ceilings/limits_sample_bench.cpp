// guardian's CPU cost per sample of a supervised tree of N processes: the watchdog reads
// /proc (every process's stat, found by walking guardian's children), cgroup v2 reads a
// handful of files of the tree's cgroup. Run as root where cgroup v2 is writable (the VM)
// for the cgroup cases; elsewhere they are skipped with the reason.
#include <benchmark/benchmark.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <csignal>
#include <memory>
#include <vector>

#include "guardian/limits/backend_choice.hpp"
#include "guardian/limits/cgroup_probe.hpp"
#include "guardian/limits/cgroup_run_tree.hpp"
#include "guardian/limits/cgroup_v2_limiter.hpp"
#include "guardian/process/tree_membership.hpp"
#include "guardian/limits/process_tree_limiter.hpp"
#include "guardian/process/launch.hpp"

namespace {

using namespace guardian;

// N sleeping children, each entering `limiter` first (like a launch), killed at the end.
class SleepingTree {
 public:
  SleepingTree(int n, const limits::Limiter* limiter) {
    for (int i = 0; i < n; ++i) {
      pid_t pid = ::fork();
      if (pid == 0) {
        if (limiter) limiter->enter_from_child();
        ::pause();
        ::_exit(0);
      }
      pids_.push_back(pid);
    }
    ::usleep(200000);  // let every child reach pause()
  }
  ~SleepingTree() {
    for (pid_t pid : pids_) ::kill(pid, SIGKILL);
    for (pid_t pid : pids_) ::waitpid(pid, nullptr, 0);
  }
  pid_t first() const { return pids_.front(); }

 private:
  std::vector<pid_t> pids_;
};

void BM_WatchdogSample(benchmark::State& state) {
  boost::asio::io_context io;
  process::TreeMembership membership(process::ProcFs{}, ::getpid(), "GUARDIAN_RUN_ID=bench");
  membership.claim_unmarked_orphans(true);
  limits::ProcessTreeLimiter limiter(io.get_executor(), std::move(membership), "bench");
  SleepingTree tree(static_cast<int>(state.range(0)), nullptr);
  limiter.started(tree.first());
  std::uint64_t processes = 0;
  for (auto _ : state) processes = limiter.sample().processes;
  state.counters["processes"] = static_cast<double>(processes);
}
BENCHMARK(BM_WatchdogSample)->Arg(1)->Arg(10)->Arg(100)->Unit(benchmark::kMicrosecond);

void BM_CgroupV2Sample(benchmark::State& state) {
  auto probe = limits::probe_cgroups();
  auto choice = limits::choose_backend(probe, "auto", false);
  if (choice.backend != limits::Backend::cgroup_v2) {
    state.SkipWithError(("no writable cgroup v2 here: " + choice.reason).c_str());
    return;
  }
  boost::asio::io_context io;
  limits::Ceilings ceilings;
  ceilings.memory_max_bytes = 1ull << 30;
  auto run_tree = limits::CgroupRunTree::create(limits::CgroupFs(probe.v2_mount), choice, ceilings);
  if (!run_tree) {
    state.SkipWithError(run_tree.error().message.c_str());
    return;
  }
  auto limiter = limits::CgroupV2Limiter::create(io.get_executor(), *run_tree, {ceilings, "bench", true, "", {}},
                                                 process::TreeMembership(process::ProcFs{}, ::getpid(), "GUARDIAN_BENCH=1"));
  if (!limiter) {
    state.SkipWithError(limiter.error().message.c_str());
    return;
  }
  std::uint64_t processes = 0;
  {
    SleepingTree tree(static_cast<int>(state.range(0)), limiter->get());
    (*limiter)->started(tree.first());
    for (auto _ : state) processes = (*limiter)->sample().processes;
  }
  state.counters["processes"] = static_cast<double>(processes);
  while (io.poll() > 0) {
  }
  (*limiter)->release();
}
BENCHMARK(BM_CgroupV2Sample)->Arg(1)->Arg(10)->Arg(100)->Unit(benchmark::kMicrosecond);

}  // namespace

int main(int argc, char** argv) {
  guardian::process::raise_open_file_limit();  // as guardian does: the /proc cache needs descriptors
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
