#include "guardian/limits/cgroup_v2_limiter.hpp"

#include <unistd.h>

#include <boost/asio/post.hpp>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <set>

#include "guardian/config/quantity.hpp"
#include "guardian/limits/cgroup_formats.hpp"

namespace guardian::limits {
namespace {

std::string unit_leaf_name(const std::string& unit) {
  std::string out;
  for (char c : unit) out += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') ? c : '_';
  if (out.empty() || out == "supervisor") out = "unit-" + out;
  return out;
}

}  // namespace

Result<std::unique_ptr<CgroupV2Limiter>> CgroupV2Limiter::create(boost::asio::any_io_executor executor,
                                                                 std::shared_ptr<CgroupRunTree> tree,
                                                                 Options options,
                                                                 process::TreeMembership membership) {
  auto dir = tree->add_unit(unit_leaf_name(options.unit_name));
  if (!dir) return dir.error();
  std::unique_ptr<CgroupV2Limiter> limiter(new CgroupV2Limiter(std::move(executor), std::move(tree), std::move(*dir),
                                                               std::move(options), std::move(membership)));
  if (auto error = limiter->setup()) {
    limiter->watch_.cancel();
    (void)limiter->fs_.remove_dir(limiter->dir_);
    limiter->released_ = true;
    return *error;
  }
  return limiter;
}

CgroupV2Limiter::CgroupV2Limiter(boost::asio::any_io_executor executor, std::shared_ptr<CgroupRunTree> tree,
                                 std::string dir, Options options, process::TreeMembership membership)
    : executor_(executor),
      tree_(std::move(tree)),
      fs_(tree_->fs()),
      dir_(std::move(dir)),
      tree_dir_(tree_->tree_dir()),
      controllers_(tree_->controllers()),
      notes_(tree_->notes()),
      options_(std::move(options)),
      watch_(executor),
      strays_(std::make_unique<CgroupStrays>(executor, std::move(membership), [this] { return processes(); },
                                             "/" + dir_)) {}

CgroupV2Limiter::~CgroupV2Limiter() {
  cancel();
  // Whoever listened for breaches may be gone by now: clean up without telling anyone.
  if (!released_ && !populated()) release_cgroup(false);
}

bool CgroupV2Limiter::has(std::string_view controller) const { return has_controller(controllers_, controller); }

Status CgroupV2Limiter::setup() {
  // The ceilings sit on the tree node above (CgroupRunTree): the leaf only places and counts.
  auto fd = fs_.open_for_write(dir_, "cgroup.procs");
  if (!fd) return fd.error();
  procs_fd_ = std::move(*fd);
  kill_file_exists_ = fs_.exists(dir_, "cgroup.kill");
  if (auto error = watch_.add(fs_.path(dir_, "cgroup.events"), [this] { on_events_modified(); })) return error;
  if (has("memory")) {
    if (auto error = watch_.add(fs_.path(dir_, "memory.events"), [this] { on_memory_events_modified(); }))
      return error;
    // memory.high throttling is counted where memory.high sits: the tree node.
    if (auto error = watch_.add(fs_.path(tree_dir_, "memory.events"), [this] { on_tree_memory_events_modified(); }))
      return error;
  }
  if (has("pids") && options_.ceilings.pids_max) {
    // Which cgroup counts a refused fork changed across kernels (the task's own before 6.10,
    // the one whose pids.max was hit after): watch both.
    for (const auto& dir : {dir_, tree_dir_})
      if (auto error = watch_.add(fs_.path(dir, "pids.events"), [this] { on_pids_events_modified(); }))
        return error;
  }
  return std::nullopt;
}

std::string CgroupV2Limiter::summary() const {
  std::string out = fmt::format("limits: cgroup v2 ({}): {}", fs_.path(dir_), options_.ceilings.describe());
  if (!options_.missing_controllers.empty())
    out += fmt::format(" — NOT enforced: {} (controller not delegated; see 'guardian doctor')",
                       fmt::join(options_.missing_controllers, ", "));
  return out;
}

nlohmann::json CgroupV2Limiter::report() const {
  nlohmann::json out = {{"backend", to_string(backend())},
                        {"reason", options_.reason},
                        {"cgroup", fs_.path(dir_)},
                        {"ceilings_cgroup", fs_.path(tree_dir_)},
                        {"controllers", controllers_},
                        {"missing_controllers", options_.missing_controllers},
                        {"ceilings", options_.ceilings.to_json()},
                        {"notes", notes_}};
  if (!kill_method_.empty()) out["kill_method"] = kill_method_;
  std::optional<cpu::Stat> cpu_stat = final_cpu_;
  if (!released_) cpu_stat = read_cpu();
  if (cpu_stat)
    out["cpu"] = {{"usage_usec", cpu_stat->usage_usec},
                  {"nr_periods", cpu_stat->nr_periods},
                  {"nr_throttled", cpu_stat->nr_throttled},
                  {"throttled_usec", cpu_stat->throttled_usec}};
  std::optional<memory::Events> events = final_memory_events_;
  std::optional<std::uint64_t> peak = final_memory_peak_;
  if (!released_ && has("memory")) {
    if (auto read = memory::read_events(fs_, tree_dir_)) events = *read;
    peak = memory::read_peak(fs_, tree_dir_);
  }
  // The counters of the node that carries memory.max and memory.high (the leaf never sees
  // its ceilings' "high" and "max" events).
  if (events)
    out["memory"] = {{"peak_bytes", peak ? nlohmann::json(*peak) : nlohmann::json(nullptr)},
                     {"events_cgroup", fs_.path(tree_dir_)},
                     {"events", {{"high", events->high}, {"max", events->max}, {"oom", events->oom},
                                 {"oom_kill", events->oom_kill}, {"oom_group_kill", events->oom_group_kill}}},
                     {"throttled_ms", longest_throttle_ms_},
                     {"high_stall_limit_ms", options_.memory_high_stall.count()}};
  std::optional<pids::Stat> pid_stat = final_pids_;
  if (!released_ && has("pids")) pid_stat = read_pids();
  if (pid_stat)
    out["pids"] = {{"peak", pid_stat->peak ? nlohmann::json(*pid_stat->peak) : nlohmann::json(nullptr)},
                   {"refused_forks", pid_stat->refused_forks}};
  return out;
}

int CgroupV2Limiter::enter_from_child() const noexcept {
  // Async-signal-safe: one write(2) on a descriptor opened before the fork.
  if (!procs_fd_) return EBADF;
  if (::write(procs_fd_.get(), "0", 1) != 1) return errno;
  return 0;
}

void CgroupV2Limiter::started(pid_t root_pid) {
  root_pid_ = root_pid;
  strays_->started(root_pid);
}

std::vector<pid_t> CgroupV2Limiter::processes() const {
  std::vector<pid_t> out;
  std::vector<std::string> dirs{dir_};
  while (!dirs.empty()) {
    std::string dir = std::move(dirs.back());
    dirs.pop_back();
    for (pid_t pid : parse_pid_list(fs_.read(dir, "cgroup.procs").value_or(""))) out.push_back(pid);
    for (const auto& child : fs_.children(dir)) dirs.push_back(join_dir(dir, child));
  }
  return out;
}

bool CgroupV2Limiter::populated() const {
  auto events = fs_.read(dir_, "cgroup.events");
  if (!events) return false;  // gone: nothing can live in it
  auto keyed = parse_flat_keyed(*events);
  auto it = keyed.find("populated");
  return it == keyed.end() || it->second != 0;
}

std::size_t CgroupV2Limiter::signal_all(int signo) {
  if (released_) return 0;
  // Listed before anything is signalled, so the count is the tree as it was when stopped.
  // Then the group first, in one call, so a well-behaved command sees the signal at once;
  // then every process of the cgroup, which is the whole tree whatever its groups and sessions.
  auto pids = processes();
  if (root_pid_ > 0 && !pids.empty()) ::kill(-root_pid_, signo);
  for (pid_t pid : pids) {
    ::kill(pid, signo);
    if (signo != SIGKILL && signo != SIGCONT) ::kill(pid, SIGCONT);
  }
  return pids.size() + strays_->signal_all(signo);
}

void CgroupV2Limiter::async_wait_empty(std::function<void()> done) {
  // Empty means both: "populated 0" and no process of the command left outside the cgroup.
  auto pending = std::make_shared<int>(2);
  auto one_empty = [pending, done = std::make_shared<std::function<void()>>(std::move(done))] {
    if (--*pending == 0) (*done)();
  };
  async_wait_cgroup_empty(one_empty);
  strays_->async_wait_empty(one_empty);
}

void CgroupV2Limiter::async_wait_cgroup_empty(std::function<void()> done) {
  if (released_ || !populated()) {
    boost::asio::post(executor_, std::move(done));
    return;
  }
  empty_waiters_.push_back(std::move(done));
}

void CgroupV2Limiter::on_events_modified() {
  if (empty_waiters_.empty() || populated()) return;
  if (kill_retry_) kill_retry_->cancel();
  auto waiters = std::move(empty_waiters_);
  empty_waiters_.clear();
  for (auto& waiter : waiters) waiter();
}

void CgroupV2Limiter::kill_all(std::function<void(std::size_t)> done) {
  std::size_t count = released_ ? 0 : processes().size();
  if (!released_) {
    kill_now();
    arm_kill_retry();
  }
  auto pending = std::make_shared<int>(2);
  auto total = std::make_shared<std::size_t>(count);
  auto one_empty = [pending, total, done = std::make_shared<std::function<void(std::size_t)>>(std::move(done))] {
    if (--*pending == 0) (*done)(*total);
  };
  async_wait_cgroup_empty(one_empty);
  strays_->kill_all([one_empty, total](std::size_t strays) {
    *total += strays;
    one_empty();
  });
}

void CgroupV2Limiter::kill_now() {
  if (kill_file_exists_ && options_.use_kill_file) {
    if (auto error = fs_.write(dir_, "cgroup.kill", "1"); !error) {
      kill_method_ = "cgroup.kill";
      return;
    }
  }
  freeze_kill_thaw();
}

void CgroupV2Limiter::freeze_kill_thaw() {
  // Before Linux 5.14 there is no cgroup.kill: a frozen tree cannot fork while it is
  // being killed one process at a time (SIGKILL reaches frozen tasks).
  kill_method_ = "freeze+kill+thaw";
  (void)fs_.write(dir_, "cgroup.freeze", "1");
  std::set<pid_t> killed;
  for (int round = 0; round < 5; ++round) {
    std::size_t fresh = 0;
    for (pid_t pid : processes())
      if (killed.insert(pid).second) {
        ::kill(pid, SIGKILL);
        ++fresh;
      }
    if (fresh == 0) break;
  }
  (void)fs_.write(dir_, "cgroup.freeze", "0");
}

void CgroupV2Limiter::arm_kill_retry() {
  // A safety net, not the mechanism: "populated 0" arrives through inotify. Should a
  // process have slipped through (forked during a freeze), kill again.
  if (!kill_retry_) kill_retry_ = std::make_unique<boost::asio::steady_timer>(executor_);
  kill_retry_->expires_after(std::chrono::seconds(1));
  kill_retry_->async_wait([this](const boost::system::error_code& error) {
    if (error || released_ || empty_waiters_.empty() || !populated()) return;
    if (kill_file_exists_ && options_.use_kill_file) (void)fs_.write(dir_, "cgroup.kill", "1");
    else freeze_kill_thaw();
    arm_kill_retry();
  });
}

void CgroupV2Limiter::cancel() {
  strays_->cancel();
  watch_.cancel();
  if (kill_retry_) kill_retry_->cancel();
  if (throttle_timer_) throttle_timer_->cancel();
  if (pids_timer_) pids_timer_->cancel();
  empty_waiters_.clear();
}

TreeUsage CgroupV2Limiter::sample() {
  TreeUsage usage;
  usage.cpu_ceiling_cores = has("cpu") ? options_.ceilings.cpu_cores : std::nullopt;
  usage.memory_ceiling_bytes = has("memory") ? options_.ceilings.memory_max_bytes : std::nullopt;
  if (released_) {
    if (final_cpu_) {
      usage.cpu_usec = final_cpu_->usage_usec;
      usage.cpu_nr_throttled = final_cpu_->nr_throttled;
      usage.cpu_throttled_usec = final_cpu_->throttled_usec;
    }
    usage.memory_peak_bytes = final_memory_peak_;
    return usage;
  }
  if (!usage_reader_)
    usage_reader_ = std::make_unique<CgroupUsageReader>(fs_, dir_, tree_dir_, has("memory"), has("pids"));
  if (!usage_reader_->read(usage)) usage.processes = processes().size();  // cgroups below the unit
  return usage;
}

void CgroupV2Limiter::take_final_stats() {
  final_cpu_ = read_cpu();
  if (has("memory")) {
    if (auto events = memory::read_events(fs_, tree_dir_)) final_memory_events_ = *events;
    final_memory_peak_ = memory::read_peak(fs_, tree_dir_);
  }
  if (has("pids")) final_pids_ = read_pids();
}

void CgroupV2Limiter::release() { release_cgroup(true); }

void CgroupV2Limiter::release_cgroup(bool report_breaches) {
  if (released_) return;
  if (report_breaches) {
    // The OOM kill may have been noticed through the child's exit before memory.events.
    on_memory_events_modified();
    on_pids_events_modified();
  }
  take_final_stats();
  cancel();
  procs_fd_.reset();
  usage_reader_.reset();  // its files are inside the cgroup about to be removed
  released_ = true;
  (void)fs_.remove_dir(dir_);
  tree_.reset();  // the last unit of the run removes the run's cgroups
}

std::string CgroupV2Limiter::kill_file() const {
  // The tree node: one write ends every unit of the run (servers included). Without
  // cgroup.kill the sentinel can still freeze the tree, then kill what carries the marker.
  return fs_.path(tree_dir_, kill_file_exists_ ? "cgroup.kill" : "cgroup.freeze");
}

}  // namespace guardian::limits

namespace guardian::limits {

std::vector<process::UndoStep> CgroupV2Limiter::undo_after_death() const {
  return tree_ ? tree_->undo_after_death() : std::vector<process::UndoStep>{};
}

}  // namespace guardian::limits
