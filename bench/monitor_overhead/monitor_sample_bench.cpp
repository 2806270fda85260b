// The cost of one monitor sample of a tree of N processes, in guardian's CPU time: a check
// (the limiter's sample through the process-tree backend this host uses + host CPU, memory,
// PSI and disk), the per-process walk with open files and IO (report time, protector), and
// with --cgroup (run it where cgroup v2 is writable, e.g. the VM) the cgroup v2 backend.
// Then the same tree is sampled by psutil_monitor.py for comparison. Prints one JSON line.
//
//   monitor_sample_bench N PSUTIL_SCRIPT [--cgroup]
// $PYTHON names the interpreter for the psutil monitor (default /usr/bin/python3);
// $MONITOR_BENCH_WORK the process-visits per timed batch (default 20000).
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <charconv>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fmt/format.h>
#include <functional>
#include <memory>
#include <optional>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>
#include <vector>

#include "guardian/limits/backend_choice.hpp"
#include "guardian/limits/cgroup_probe.hpp"
#include "guardian/limits/cgroup_run_tree.hpp"
#include "guardian/limits/cgroup_v2_limiter.hpp"
#include "guardian/limits/process_tree_limiter.hpp"
#include "guardian/monitor/process_walk.hpp"
#include "guardian/monitor/sampler.hpp"

namespace {

using namespace guardian;

std::uint64_t cpu_nsec() {
  timespec ts{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ULL + static_cast<std::uint64_t>(ts.tv_nsec);
}

// Median over 7 batches of the CPU time per call, in microseconds.
double cost_us(const std::function<void()>& once, int iterations) {
  for (int i = 0; i < 3; ++i) once();
  std::vector<double> batches;
  for (int b = 0; b < 7; ++b) {
    auto start = cpu_nsec();
    for (int i = 0; i < iterations; ++i) once();
    batches.push_back(static_cast<double>(cpu_nsec() - start) / iterations / 1000.0);
  }
  std::sort(batches.begin(), batches.end());
  return batches[batches.size() / 2];
}

// A root process with N-1 sleeping children, like a command's tree under guardian.
// `enter` runs in the root before it forks (e.g. joining a cgroup).
pid_t start_tree(int n, const std::function<void()>& enter) {
  int ready[2];
  if (::pipe(ready) != 0) std::abort();
  pid_t root = ::fork();
  if (root == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (enter) enter();
    for (int i = 1; i < n; ++i) {
      if (::fork() == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
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

// A prototype of a cheaper /proc walk (not used by guardian yet): keep each process's
// stat and children files open between samples and re-read them with pread, which
// regenerates a /proc file without the path lookup, open and close that dominate a walk.
// It measures what process/tree_membership could gain.
class CachedWalk {
 public:
  ~CachedWalk() {
    for (auto& [pid, entry] : cache_) close_entry(entry);
  }
  // Sums the tree under `top` (excluded), like TreeMembership::live_member_stats().
  std::uint64_t sample(pid_t top) {
    static const process::ProcFs proc;
    for (auto& [pid, entry] : cache_) entry.seen = false;
    std::uint64_t rss_pages = 0;
    std::vector<pid_t> queue = proc.children(top);
    while (!queue.empty()) {
      pid_t pid = queue.back();
      queue.pop_back();
      Entry& entry = cache_[pid];
      entry.seen = true;
      if (entry.stat_fd < 0) entry.stat_fd = ::open(fmt::format("/proc/{}/stat", pid).c_str(), O_RDONLY | O_CLOEXEC);
      ssize_t n = entry.stat_fd < 0 ? -1 : ::pread(entry.stat_fd, buffer_, sizeof buffer_, 0);
      if (n <= 0) continue;
      auto st = process::parse_stat(std::string_view(buffer_, static_cast<std::size_t>(n)));
      if (!st || !st->alive()) continue;
      rss_pages += st->rss_pages;
      if (st->threads != 1) {
        for (pid_t child : proc.children(pid)) queue.push_back(child);
        continue;
      }
      if (entry.children_fd < 0)
        entry.children_fd = ::open(fmt::format("/proc/{}/task/{}/children", pid, pid).c_str(), O_RDONLY | O_CLOEXEC);
      n = entry.children_fd < 0 ? -1 : ::pread(entry.children_fd, buffer_, sizeof buffer_, 0);
      std::string_view text(buffer_, n > 0 ? static_cast<std::size_t>(n) : 0);
      while (!text.empty()) {
        auto space = text.find(' ');
        pid_t child = 0;
        auto token = text.substr(0, space);
        if (std::from_chars(token.data(), token.data() + token.size(), child).ec == std::errc{}) queue.push_back(child);
        if (space == std::string_view::npos) break;
        text.remove_prefix(space + 1);
      }
    }
    std::erase_if(cache_, [](const auto& item) {
      if (item.second.seen) return false;
      close_entry(item.second);
      return true;
    });
    return rss_pages;
  }

 private:
  struct Entry {
    int stat_fd = -1;
    int children_fd = -1;
    bool seen = false;
  };
  static void close_entry(const Entry& entry) {
    if (entry.stat_fd >= 0) ::close(entry.stat_fd);
    if (entry.children_fd >= 0) ::close(entry.children_fd);
  }
  std::unordered_map<pid_t, Entry> cache_;
  char buffer_[4096];
};

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
    auto created = limits::CgroupV2Limiter::create(io.get_executor(), run_tree, {ceilings, "bench", true, "", {}});
    if (!created) {
      problem = created.error().message;
      return;
    }
    limiter = std::move(*created);
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: monitor_sample_bench N PSUTIL_SCRIPT [--cgroup]\n");
    return 2;
  }
  const int n = std::atoi(argv[1]);
  const std::string psutil_script = argv[2];
  const bool cgroup = argc > 3 && std::string(argv[3]) == "--cgroup";
  // Samples per batch: 20000 process-visits by default ($MONITOR_BENCH_WORK; lower it in the VM).
  const char* work_env = std::getenv("MONITOR_BENCH_WORK");
  const int work = work_env && *work_env ? std::atoi(work_env) : 20000;
  const int iterations = std::max(5, work / n);
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
  pid_t root = start_tree(n, [cgroup_limiter] {
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
      iterations);
  double tree_only_us = cost_us([&] { limiter.sample(); }, iterations);

  membership.set_root(root);
  monitor::ProcessWalker walker(membership);
  double walk_us = cost_us(
      [&] {
        now += std::chrono::seconds(1);
        walker.walk(now, 2.0, 1ULL << 34, true);
      },
      iterations);

  CachedWalk cached;
  double cached_walk_us = cgroup ? 0.0 : cost_us([&] { cached.sample(::getpid()); }, iterations);

  std::string psutil_json = run_capture(fmt::format("{} {} per-sample --root {} --iterations {} --disk {}", python,
                                                    psutil_script, root, std::max(3, iterations / 10), cwd));
  ::kill(root, SIGKILL);
  ::waitpid(root, nullptr, 0);
  if (cgroup) {
    // The root's children die with it (PDEATHSIG); wait until the cgroup is empty, then remove it.
    for (int i = 0; i < 100 && cgroup_limiter->sample().processes > 0; ++i) ::usleep(20000);
    cgroup_limiter->release();
  }

  nlohmann::json out = {{"backend", cgroup ? "cgroup_v2" : "process_tree"},
                        {"processes", processes},
                        {"guardian_check_us", check_us},
                        {"guardian_tree_sample_us", tree_only_us},
                        {"guardian_walk_files_io_us", walk_us},
                        {"prototype_cached_walk_us", cached_walk_us}};
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
