#pragma once
// CgroupV2Limiter: holds one supervised command in its own cgroup v2 leaf. The command
// enters the leaf before exec (the child writes "0" to a cgroup.procs opened beforehand),
// the kernel enforces memory.max/high, swap, cpu.max and pids.max, an OOM kill takes the
// whole tree (memory.oom.group) and is learned from memory.events through inotify; a tree the
// kernel throttles at memory.high past a short window is killed and named the same way; the
// end is cgroup.kill (or freeze + SIGKILL + thaw) and waiting for "populated 0" — and for any
// process that wrote itself out of the cgroup (CgroupStrays).
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <string>
#include <vector>

#include "guardian/limits/ceilings.hpp"
#include "guardian/limits/cgroup_cpu.hpp"
#include "guardian/limits/cgroup_memory.hpp"
#include "guardian/limits/cgroup_pids.hpp"
#include "guardian/limits/cgroup_run_tree.hpp"
#include "guardian/limits/cgroup_strays.hpp"
#include "guardian/limits/cgroup_usage_reader.hpp"
#include "guardian/limits/file_watch.hpp"
#include "guardian/limits/limiter.hpp"
#include "guardian/limits/memory_throttle.hpp"
#include "guardian/process/unique_fd.hpp"

namespace guardian::limits {

class CgroupV2Limiter : public Limiter {
 public:
  struct Options {
    Ceilings ceilings;
    std::string unit_name = "main";
    bool use_kill_file = true;  // cgroup.kill when the kernel has it; else freeze + kill + thaw
    std::string reason;         // why this backend (from BackendChoice)
    std::vector<std::string> missing_controllers;
    // How long the tree may stay throttled at memory.high before guardian ends it (a kill
    // named like the kernel's OOM kill): without swap, the kernel can throttle it forever.
    std::chrono::milliseconds memory_high_stall{2000};
    // How long the kernel may keep refusing the tree's forks at pids.max (a fork bomb) before
    // guardian ends the tree; a tree that hits the ceiling once and carries on is left alone.
    std::chrono::milliseconds pids_grace{3000};
  };

  /// Creates the unit's leaf under the tree node that carries the ceilings. On error nothing is left.
  /// `membership` finds the command's processes that leave the cgroup.
  static Result<std::unique_ptr<CgroupV2Limiter>> create(boost::asio::any_io_executor executor,
                                                         std::shared_ptr<CgroupRunTree> tree, Options options,
                                                         process::TreeMembership membership);
  ~CgroupV2Limiter() override;

  Backend backend() const override { return Backend::cgroup_v2; }
  std::string summary() const override;
  nlohmann::json report() const override;
  int enter_from_child() const noexcept override;
  void started(pid_t root_pid) override;
  std::size_t signal_all(int signo) override;
  void async_wait_empty(std::function<void()> done) override;
  void kill_all(std::function<void(std::size_t killed)> done) override;
  void cancel() override;
  TreeUsage sample() override;
  void release() override;
  std::string kill_file() const override;
  std::vector<process::UndoStep> undo_after_death() const override;
  process::TreeMembership* membership() override { return &strays_->membership(); }

  const std::string& dir() const { return dir_; }

 private:
  CgroupV2Limiter(boost::asio::any_io_executor executor, std::shared_ptr<CgroupRunTree> tree, std::string dir,
                  Options options, process::TreeMembership membership);
  Status setup();
  bool has(std::string_view controller) const;
  bool populated() const;
  void async_wait_cgroup_empty(std::function<void()> done);
  std::vector<pid_t> processes() const;  // of the leaf and any cgroups below it
  void on_events_modified();
  void on_memory_events_modified();
  void on_tree_memory_events_modified();
  void throttle_tick();
  MemoryThrottleWatch::Reading throttle_reading() const;
  void end_throttled_tree();
  void kill_now();
  void on_pids_events_modified();
  void pids_tick();
  Breach pids_breach(const pids::Stat& stat, bool tree_ended) const;
  void arm_kill_retry();
  void freeze_kill_thaw();
  void take_final_stats();
  cpu::Stat read_cpu() const;
  pids::Stat read_pids() const;
  void release_cgroup(bool report_breaches);

  boost::asio::any_io_executor executor_;
  std::shared_ptr<CgroupRunTree> tree_;
  CgroupFs fs_;
  std::string dir_;       // the unit's leaf
  std::string tree_dir_;  // the node with the ceilings, shared by the run's units
  std::vector<std::string> controllers_;  // enabled for the units (kept after release)
  std::vector<std::string> notes_;        // what setting up the run's cgroups did
  Options options_;
  process::UniqueFd procs_fd_;
  FileWatch watch_;
  pid_t root_pid_ = -1;
  std::vector<std::function<void()>> empty_waiters_;
  std::unique_ptr<CgroupStrays> strays_;  // lists through this object: never moved
  bool memory_breach_reported_ = false;
  std::optional<MemoryThrottleWatch> throttle_;  // while the tree is over memory.high
  std::unique_ptr<boost::asio::steady_timer> throttle_timer_;
  std::uint64_t longest_throttle_ms_ = 0;
  bool pids_breach_reported_ = false;
  bool pids_tree_ended_ = false;
  bool pids_watching_ = false;
  std::unique_ptr<boost::asio::steady_timer> pids_timer_;  // while forks are being refused
  std::uint64_t pids_refused_seen_ = 0;
  int pids_refusing_ticks_ = 0;  // consecutive ticks with new refusals
  std::unique_ptr<boost::asio::steady_timer> kill_retry_;
  bool kill_file_exists_ = false;
  bool released_ = false;
  std::string kill_method_;  // how the tree was killed at the end, for the report
  // Kept at release(), when the cgroup disappears.
  std::optional<cpu::Stat> final_cpu_;
  std::optional<memory::Events> final_memory_events_;
  std::optional<std::uint64_t> final_memory_peak_;
  std::optional<pids::Stat> final_pids_;
  std::unique_ptr<CgroupUsageReader> usage_reader_;  // opened at the first sample
};

}  // namespace guardian::limits
