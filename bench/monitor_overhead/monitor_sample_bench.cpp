// The cost of one monitor sample of a tree of N processes, in guardian's CPU time: a check
// (the limiter's sample through the process-tree backend this host uses + host CPU, memory,
// PSI and disk), the per-process walk with open files and IO (report time, protector), and
// with --cgroup (run it where cgroup v2 is writable, e.g. the VM) the cgroup v2 backend.
// Then the same tree is sampled by psutil_monitor.py for comparison. Prints one JSON line.
// Samples are back to back, or --gap-ms apart (a monitor never samples back to back: after
// a sleep the caches are cold, which costs a short sample more than a long one). With
// --busy K, K of the processes wake every millisecond, so with a gap each of them has run
// between two samples: the /proc backend's worst case, as it reads a process's stat again
// only when it ran.
//
//   monitor_sample_bench N PSUTIL_SCRIPT [--cgroup] [--busy K] [--gap-ms MS]
// $PYTHON names the interpreter for the psutil monitor (default /usr/bin/python3);
// $MONITOR_BENCH_WORK the process-visits per timed batch (default 20000; 10 to 40 samples).
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fmt/format.h>
#include <functional>
#include <memory>
#include <optional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "guardian/limits/backend_choice.hpp"
#include "guardian/limits/cgroup_probe.hpp"
#include "guardian/limits/cgroup_run_tree.hpp"
#include "guardian/limits/cgroup_v2_limiter.hpp"
#include "guardian/process/tree_membership.hpp"
#include "guardian/limits/process_tree_limiter.hpp"
#include "guardian/monitor/process_walk.hpp"
#include "guardian/process/launch.hpp"
#include "guardian/monitor/sampler.hpp"

namespace {

using namespace guardian;

std::uint64_t cpu_nsec() {
  timespec ts{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ULL + static_cast<std::uint64_t>(ts.tv_nsec);
}

// Median over 7 batches of the CPU time per call, in microseconds. With a gap, the calls
// are that far apart in time (only the calls themselves are timed).
double cost_us(const std::function<void()>& once, int iterations, std::chrono::microseconds gap = {}) {
  for (int i = 0; i < 3; ++i) once();
  std::vector<double> batches;
  for (int b = 0; b < 7; ++b) {
    std::uint64_t spent = 0;
    auto start = cpu_nsec();
    for (int i = 0; i < iterations; ++i) {
      if (gap.count() > 0) {
        ::usleep(static_cast<useconds_t>(gap.count()));
        start = cpu_nsec();
      }
      once();
      if (gap.count() > 0) spent += cpu_nsec() - start;
    }
    if (gap.count() == 0) spent = cpu_nsec() - start;
    batches.push_back(static_cast<double>(spent) / iterations / 1000.0);
  }
  std::sort(batches.begin(), batches.end());
  return batches[batches.size() / 2];
}

// A root process with N-1 children, like a command's tree under guardian: `busy` of them
// wake every millisecond (so each has run between any two samples), the others sleep. `enter` runs in the root before it forks (e.g. joining a cgroup).
pid_t start_tree(int n, int busy, const std::function<void()>& enter) {
  int ready[2];
  if (::pipe(ready) != 0) std::abort();
  pid_t root = ::fork();
  if (root == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (enter) enter();
    for (int i = 1; i < n; ++i) {
      if (::fork() == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        while (i <= busy) ::usleep(1000);  // runs between any two samples
        ::pause();
        ::_exit(0);
      }
    }
    char byte = 'r';
    (void)!::write(ready[1], &byte, 1);
    ::pause();
    ::_exit(0);
  }
  char byte = 0;
  ::close(ready[1]);
  (void)!::read(ready[0], &byte, 1);
  ::close(ready[0]);
  ::usleep(100000);
  return root;
}

std::string run_capture(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return out;
  char buffer[4096];
  while (auto n = std::fread(buffer, 1, sizeof buffer, pipe)) out.append(buffer, n);
  ::pclose(pipe);
  return out;
}

// The cgroup v2 backend, created like `guardian run` does on a pure v2 machine.
struct CgroupBackend {
  boost::asio::io_context io;
  std::shared_ptr<limits::CgroupRunTree> run_tree;
  std::unique_ptr<limits::CgroupV2Limiter> limiter;
  std::string problem;

  CgroupBackend() {
    auto probe = limits::probe_cgroups();
    auto choice = limits::choose_backend(probe, "auto", false);
    if (choice.backend != limits::Backend::cgroup_v2) {
      problem = "no writable cgroup v2 here: " + choice.reason;
      return;
    }
    limits::Ceilings ceilings;
    ceilings.memory_max_bytes = 1ull << 30;
    ceilings.cpu_cores = 1.0;
    auto tree = limits::CgroupRunTree::create(limits::CgroupFs(probe.v2_mount), choice, ceilings);
    if (!tree) {
      problem = tree.error().message;
      return;
    }
    run_tree = *tree;
    auto created = limits::CgroupV2Limiter::create(io.get_executor(), run_tree, {ceilings, "bench", true, "", {}},
                                                 process::TreeMembership(process::ProcFs{}, ::getpid(), "GUARDIAN_BENCH=1"));
    if (!created) {
      problem = created.error().message;
      return;
    }
    limiter = std::move(*created);
  }
};

}  // namespace

int main(int argc, char** argv) {
  process::raise_open_file_limit();  // as guardian does: the /proc cache needs descriptors
  if (argc < 3) {
    std::fprintf(stderr, "usage: monitor_sample_bench N PSUTIL_SCRIPT [--cgroup] [--busy K] [--gap-ms MS]\n");
    return 2;
  }
  const int n = std::atoi(argv[1]);
  const std::string psutil_script = argv[2];
  bool cgroup = false;
  int busy = 0;
  std::chrono::microseconds gap{0};
  for (int i = 3; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--cgroup") cgroup = true;
    else if (flag == "--busy" && i + 1 < argc) busy = std::atoi(argv[++i]);
    else if (flag == "--gap-ms" && i + 1 < argc) gap = std::chrono::microseconds(std::atoi(argv[++i]) * 1000);
  }
  // Samples per batch: 20000 process-visits by default ($MONITOR_BENCH_WORK; lower it in the VM).
  const char* work_env = std::getenv("MONITOR_BENCH_WORK");
  const int work = work_env && *work_env ? std::atoi(work_env) : 20000;
  // Back to back (warm caches), or --gap-ms apart as a monitor takes them, for guardian
  // and psutil alike (only the samples are timed).
  const int iterations = gap.count() > 0 ? std::clamp(work / n, 10, 40) : std::max(5, work / n);
  const char* python_env = std::getenv("PYTHON");
  const std::string python = python_env && *python_env ? python_env : "/usr/bin/python3";
  char cwd[4096];
  if (!::getcwd(cwd, sizeof cwd)) return 1;

  std::optional<CgroupBackend> cgroup_backend;
  if (cgroup) {
    cgroup_backend.emplace();
    if (!cgroup_backend->limiter) {
      std::printf("%s\n", nlohmann::json{{"error", cgroup_backend->problem}}.dump().c_str());
      return 1;
    }
  }
  limits::Limiter* cgroup_limiter = cgroup ? cgroup_backend->limiter.get() : nullptr;
  pid_t root = start_tree(n, busy, [cgroup_limiter] {
    if (cgroup_limiter) cgroup_limiter->enter_from_child();
  });
  boost::asio::io_context io;
  process::TreeMembership membership(process::ProcFs{}, ::getpid(), "GUARDIAN_RUN_ID=bench");
  membership.claim_unmarked_orphans(true);
  limits::ProcessTreeLimiter process_limiter(io.get_executor(), membership, "bench");
  limits::Limiter& limiter = cgroup ? *cgroup_limiter : static_cast<limits::Limiter&>(process_limiter);
  limiter.started(root);

  monitor::SamplerOptions options;
  options.disks = {cwd};
  monitor::Sampler sampler([&limiter] { return limiter.sample(); }, options);
  auto now = std::chrono::steady_clock::now();
  std::uint64_t processes = 0;
  double check_us = cost_us(
      [&] {
        now += std::chrono::seconds(1);
        processes = sampler.sample(now, std::chrono::system_clock::now(), monitor::Level::normal).processes;
      },
      iterations, gap);
  double tree_only_us = cost_us([&] { limiter.sample(); }, iterations, gap);

  membership.set_root(root);
  monitor::ProcessWalker walker(membership);
  double walk_us = cost_us(
      [&] {
        now += std::chrono::seconds(1);
        walker.walk(now, 2.0, 1ULL << 34, true);
      },
      iterations, gap);

  std::string psutil_json = run_capture(
      fmt::format("{} {} per-sample --root {} --iterations {} --disk {} --gap-ms {}", python, psutil_script, root,
                  gap.count() > 0 ? std::max(5, iterations / 4) : std::max(3, iterations / 10), cwd, gap.count() / 1000));
  ::kill(root, SIGKILL);
  ::waitpid(root, nullptr, 0);
  if (cgroup) {
    // The root's children die with it (PDEATHSIG); wait until the cgroup is empty, then remove it.
    for (int i = 0; i < 100 && cgroup_limiter->sample().processes > 0; ++i) ::usleep(20000);
    cgroup_limiter->release();
  }

  nlohmann::json out = {{"backend", cgroup ? "cgroup_v2" : "process_tree"},
                        {"processes", processes},
                        {"busy", busy},
                        {"gap_ms", gap.count() / 1000},
                        {"guardian_check_us", check_us},
                        {"guardian_tree_sample_us", tree_only_us},
                        {"guardian_walk_files_io_us", walk_us}};
  auto psutil = nlohmann::json::parse(psutil_json, nullptr, false);
  if (!psutil.is_discarded()) {
    out["psutil_basic_us"] = psutil["basic_us"];
    out["psutil_full_us"] = psutil["full_us"];
    out["psutil_processes"] = psutil["processes"];
    out["ratio_check"] = psutil["basic_us"].get<double>() / check_us;
    out["ratio_walk"] = psutil["full_us"].get<double>() / walk_us;
  } else {
    out["psutil_error"] = psutil_json;
  }
  std::printf("%s\n", out.dump().c_str());
  return 0;
}
