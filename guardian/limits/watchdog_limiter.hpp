#pragma once
// WatchdogLimiter: ceilings without cgroups, for machines where cgroup v2 controllers are
// not available (hybrid or v1 hierarchies, no delegation). It samples the tree from /proc:
// above the memory ceiling the tree is stopped (SIGTERM, a short grace, SIGKILL) and the run
// names it a ceiling kill; above the CPU ceiling the tree is duty-cycled with SIGSTOP/SIGCONT
// so its average stays at the ceiling; the pids ceiling becomes RLIMIT_NPROC where the kernel
// applies it (not for root). Built on ProcessTreeLimiter's tree control.
//
// It samples as often as the headroom under the ceilings requires (WatchdogCadence): every
// `interval` near a ceiling or while the duty cycle holds the tree, up to `slowest_interval`
// apart far below them. A sample the monitor asks for (sample()) is also a watchdog sample,
// and every sample goes to the sample listener (Limiter::on_sample): one walk of the tree
// serves the watchdog, the monitor's thresholds and its snapshots.
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <map>
#include <optional>

#include "guardian/limits/ceilings.hpp"
#include "guardian/limits/duty_cycle.hpp"
#include "guardian/limits/process_tree_limiter.hpp"
#include "guardian/limits/watchdog_cadence.hpp"

namespace guardian::limits {

class WatchdogLimiter : public ProcessTreeLimiter {
 public:
  struct Options {
    Ceilings ceilings;
    std::chrono::milliseconds interval{200};      // sampling near a ceiling, and the duty cycle's period
    std::chrono::milliseconds slowest_interval{1000};  // sampling far below the ceilings
    std::chrono::milliseconds memory_grace{1000}; // SIGTERM → SIGKILL after a memory breach
    std::string reason;                           // why the watchdog (not cgroup v2)
  };

  WatchdogLimiter(boost::asio::any_io_executor executor, process::TreeMembership membership, Options options);
  ~WatchdogLimiter() override;

  Backend backend() const override { return Backend::watchdog; }
  std::string summary() const override;
  nlohmann::json report() const override;
  int enter_from_child() const noexcept override;
  void started(pid_t root_pid) override;
  std::size_t signal_all(int signo) override;
  void kill_all(std::function<void(std::size_t)> done) override;
  void cancel() override;
  TreeUsage sample() override;
  void release() override;
  bool publishes_samples() const override { return enforcing_ && has_sample_listener(); }

  /// The RLIMIT_NPROC given to the command, when the pids ceiling is enforced that way.
  std::optional<std::uint64_t> nproc_limit() const { return nproc_limit_; }

 private:
  void tick();
  /// One sample of the tree, taken for the watchdog or for the monitor: enforces the ceilings
  /// on it, hands it to the listener and schedules the next tick.
  TreeUsage take_sample();
  void hold();     // SIGSTOP the tree
  void release_hold();  // SIGCONT it
  void stop_enforcing();
  bool root_owns_terminal() const;
  std::uint64_t accumulate_cpu(const std::vector<process::ProcStat>& stats);
  TreeUsage with_enforcement(TreeUsage usage) const;

  Options options_;
  boost::asio::steady_timer tick_timer_;
  boost::asio::steady_timer hold_timer_;
  std::optional<DutyCycle> duty_;
  WatchdogCadence cadence_;
  bool enforcing_ = false;
  bool held_ = false;
  bool memory_breached_ = false;
  std::uint64_t peak_memory_bytes_ = 0;
  std::uint64_t samples_ = 0;
  std::uint64_t foreground_skips_ = 0;
  // CPU accounting across processes that come and go: the last total of each (pid, start),
  // sorted; two buffers swapped each sample so a sample allocates nothing.
  using CpuEntry = std::pair<std::pair<pid_t, std::uint64_t>, std::uint64_t>;
  std::vector<CpuEntry> cpu_by_process_;
  std::vector<CpuEntry> cpu_scratch_;
  std::uint64_t cpu_total_usec_ = 0;
  std::optional<std::uint64_t> nproc_limit_;
  std::string pids_note_;
};

}  // namespace guardian::limits
