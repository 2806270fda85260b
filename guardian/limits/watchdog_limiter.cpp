#include "guardian/limits/watchdog_limiter.hpp"

#include <sys/resource.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <cerrno>
#include <csignal>
#include <fmt/format.h>

#include "guardian/config/quantity.hpp"
#include "guardian/limits/capacity.hpp"

namespace guardian::limits {
namespace {

// Tasks (threads) the real user already has: RLIMIT_NPROC counts all of them, not the tree.
// guardian's own helpers (the plugin host) are left out: their thread count changes while the
// run goes on (it was 5 when counted and fewer later, which gave the tree a slot over its
// ceiling), so the tree shares the budget with them instead — never more than its ceiling.
std::uint64_t tasks_of_user(const process::TreeMembership& membership, uid_t uid) {
  const auto& proc = membership.proc();
  std::uint64_t tasks = 0;
  for (pid_t pid : proc.all_pids()) {
    if (membership.is_helper(pid)) continue;
    struct stat info {};
    if (::stat(fmt::format("/proc/{}", pid).c_str(), &info) != 0 || info.st_uid != uid) continue;
    if (auto st = proc.stat(pid)) tasks += static_cast<std::uint64_t>(std::max(1L, st->threads));
  }
  return tasks;
}

CadenceSettings cadence_settings(const WatchdogLimiter::Options& options) {
  CadenceSettings settings;
  settings.fastest = options.interval;
  settings.slowest = std::max(options.interval, options.slowest_interval);
  settings.cpus = this_machine().cpus;
  settings.memory_ceiling_bytes = options.ceilings.memory_max_bytes;
  settings.cpu_ceiling_cores = options.ceilings.cpu_cores;
  return settings;
}

}  // namespace

WatchdogLimiter::WatchdogLimiter(boost::asio::any_io_executor executor, process::TreeMembership membership,
                                 Options options)
    : ProcessTreeLimiter(executor, std::move(membership), options.reason),
      options_(std::move(options)),
      tick_timer_(executor),
      hold_timer_(executor),
      cadence_(cadence_settings(options_)) {
  if (options_.ceilings.cpu_cores)
    duty_.emplace(*options_.ceilings.cpu_cores, std::chrono::duration_cast<std::chrono::microseconds>(options_.interval));
  if (options_.ceilings.pids_max) {
    if (::geteuid() == 0 || ::getuid() == 0) {
      pids_note_ = "not enforced: root is exempt from RLIMIT_NPROC (cgroup v2 pids.max would hold it)";
    } else {
      nproc_limit_ = tasks_of_user(membership_, ::getuid()) + *options_.ceilings.pids_max;
      pids_note_ = fmt::format("RLIMIT_NPROC {} (the user's {} existing tasks + the ceiling; counts all of the "
                               "user's tasks)",
                               *nproc_limit_, *nproc_limit_ - *options_.ceilings.pids_max);
    }
  }
}

WatchdogLimiter::~WatchdogLimiter() { stop_enforcing(); }

std::string WatchdogLimiter::summary() const {
  std::string out = fmt::format("limits: watchdog (/proc every {} to {}, by headroom): {}",
                                config::format_duration(options_.interval),
                                config::format_duration(cadence_.settings().slowest), options_.ceilings.describe());
  if (options_.ceilings.cpu_cores) out += " (cpu by SIGSTOP/SIGCONT duty cycle)";
  if (options_.ceilings.pids_max && !nproc_limit_) out += " (pids not enforced as root)";
  return out;
}

nlohmann::json WatchdogLimiter::report() const {
  nlohmann::json out = {{"backend", to_string(backend())},
                        {"reason", reason_},
                        {"interval_ms", options_.interval.count()},
                        {"slowest_interval_ms", cadence_.settings().slowest.count()},
                        {"ceilings", options_.ceilings.to_json()},
                        {"samples", samples_},
                        {"memory", {{"peak_bytes", peak_memory_bytes_}, {"ceiling_breached", memory_breached_}}}};
  if (duty_) {
    out["cpu"] = {{"method", "SIGSTOP/SIGCONT duty cycle"},
                  {"nr_throttled", duty_->held_periods()},
                  {"throttled_usec", duty_->held_usec()},
                  {"usage_usec", cpu_total_usec_}};
    if (foreground_skips_ > 0)
      out["cpu"]["note"] = fmt::format("not held {} time(s): the command owned the terminal's foreground, where a "
                                       "stop means Ctrl-Z to guardian's job control",
                                       foreground_skips_);
  }
  if (options_.ceilings.pids_max)
    out["pids"] = {{"method", nproc_limit_ ? "RLIMIT_NPROC" : "none"},
                   {"rlimit_nproc", nproc_limit_ ? nlohmann::json(*nproc_limit_) : nlohmann::json(nullptr)},
                   {"note", pids_note_}};
  return out;
}

int WatchdogLimiter::enter_from_child() const noexcept {
  if (!nproc_limit_) return 0;
  rlimit limit{static_cast<rlim_t>(*nproc_limit_), static_cast<rlim_t>(*nproc_limit_)};
  if (::setrlimit(RLIMIT_NPROC, &limit) != 0) return errno;
  return 0;
}

void WatchdogLimiter::started(pid_t root_pid) {
  ProcessTreeLimiter::started(root_pid);
  if (enforcing_) return;  // a restart of the same unit
  enforcing_ = options_.ceilings.memory_max_bytes.has_value() || duty_.has_value();
  if (enforcing_) tick();
}

std::uint64_t WatchdogLimiter::accumulate_cpu(const std::vector<process::ProcStat>& stats) {
  cpu_scratch_.clear();
  for (const auto& st : stats) cpu_scratch_.push_back({{st.pid, st.start_ticks}, process::cpu_usec(st)});
  std::sort(cpu_scratch_.begin(), cpu_scratch_.end());
  auto before = cpu_by_process_.begin();
  for (const auto& [key, usec] : cpu_scratch_) {
    while (before != cpu_by_process_.end() && before->first < key) ++before;
    const std::uint64_t previous = before != cpu_by_process_.end() && before->first == key ? before->second : 0;
    if (usec > previous) cpu_total_usec_ += usec - previous;
  }
  std::swap(cpu_by_process_, cpu_scratch_);
  return cpu_total_usec_;
}

TreeUsage WatchdogLimiter::with_enforcement(TreeUsage usage) const {
  usage.memory_peak_bytes = peak_memory_bytes_;
  usage.cpu_ceiling_cores = options_.ceilings.cpu_cores;
  usage.memory_ceiling_bytes = options_.ceilings.memory_max_bytes;
  if (duty_) {
    usage.cpu_nr_throttled = duty_->held_periods();
    usage.cpu_throttled_usec = duty_->held_usec();
  }
  return usage;
}

void WatchdogLimiter::tick() {
  if (enforcing_) take_sample();
}

TreeUsage WatchdogLimiter::take_sample() {
  const auto now = std::chrono::steady_clock::now();
  const auto stats = membership_.live_member_stats();
  ++samples_;
  TreeUsage usage = usage_of(stats);
  usage.cpu_usec = accumulate_cpu(stats);  // monotonic: processes that ended keep their share
  peak_memory_bytes_ = std::max(peak_memory_bytes_, usage.memory_bytes);
  usage = with_enforcement(std::move(usage));

  if (options_.ceilings.memory_max_bytes && usage.memory_bytes > *options_.ceilings.memory_max_bytes &&
      !memory_breached_) {
    memory_breached_ = true;
    stop_enforcing();  // the tree is about to be stopped: never leave it held
    Breach breach;
    breach.kind = Breach::Kind::memory_ceiling;
    breach.ceiling = *options_.ceilings.memory_max_bytes;
    breach.peak = peak_memory_bytes_;
    breach.kernel_killed = false;
    breach.grace = options_.memory_grace;
    breach.message = fmt::format("memory ceiling: the tree used {} of its {} ceiling; stopping it (SIGTERM, SIGKILL "
                                 "after {})",
                                 config::format_bytes(usage.memory_bytes), config::format_bytes(breach.ceiling),
                                 config::format_duration(options_.memory_grace));
    // Reported from the event loop: this sample may have been taken inside the monitor's check.
    boost::asio::post(tick_timer_.get_executor(), [this, breach] { report_breach(breach); });
    return usage;
  }

  bool cpu_held = false;
  if (duty_) {
    auto run = duty_->next_run(now, usage.cpu_usec);
    if (held_) release_hold();
    hold_timer_.cancel();
    if (run < duty_->period()) {
      cpu_held = true;
      if (run.count() <= 0) {
        hold();
      } else {
        hold_timer_.expires_at(now + run);
        hold_timer_.async_wait([this](const boost::system::error_code& error) {
          if (!error && enforcing_) hold();
        });
      }
    }
  }
  const bool hurry = publish_sample(usage, now);
  auto delay = cadence_.next(now, usage.memory_bytes, usage.cpu_usec, cpu_held);
  if (hurry) delay = std::min<std::chrono::microseconds>(delay, options_.interval);
  tick_timer_.expires_at(now + delay);
  tick_timer_.async_wait([this](const boost::system::error_code& error) {
    if (!error) tick();
  });
  return usage;
}

bool WatchdogLimiter::root_owns_terminal() const {
  pid_t root = membership_.root();
  if (root <= 0) return false;
  for (int fd : {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO})
    if (::isatty(fd) && ::tcgetpgrp(fd) == root) return true;
  return false;
}

void WatchdogLimiter::hold() {
  // A stopped foreground command is what Ctrl-Z looks like: guardian's job control would
  // take the terminal back and stop itself. Such a command is not held (said in the report).
  if (root_owns_terminal()) {
    ++foreground_skips_;
    return;
  }
  for (pid_t pid : membership_.live_members()) ::kill(pid, SIGSTOP);
  held_ = true;
}

void WatchdogLimiter::release_hold() {
  for (pid_t pid : membership_.live_members()) ::kill(pid, SIGCONT);
  held_ = false;
}

void WatchdogLimiter::stop_enforcing() {
  enforcing_ = false;
  tick_timer_.cancel();
  hold_timer_.cancel();
  if (held_) release_hold();
}

std::size_t WatchdogLimiter::signal_all(int signo) {
  // Whoever ends the tree must find it running: a held process would only act on its
  // signal after the next SIGCONT.
  stop_enforcing();
  return ProcessTreeLimiter::signal_all(signo);
}

void WatchdogLimiter::kill_all(std::function<void(std::size_t)> done) {
  stop_enforcing();
  ProcessTreeLimiter::kill_all(std::move(done));
}

void WatchdogLimiter::cancel() {
  stop_enforcing();
  ProcessTreeLimiter::cancel();
}

TreeUsage WatchdogLimiter::sample() {
  // While enforcing, the monitor's sample is a watchdog sample too (and moves the next tick).
  if (enforcing_) return take_sample();
  TreeUsage usage = ProcessTreeLimiter::sample();
  peak_memory_bytes_ = std::max(peak_memory_bytes_, usage.memory_bytes);
  return with_enforcement(std::move(usage));
}

void WatchdogLimiter::release() {
  stop_enforcing();
  ProcessTreeLimiter::release();
}

}  // namespace guardian::limits
