#pragma once
// Monitor: the progressive monitor of one run. It samples the supervised tree on the run's
// event loop at its level's check interval (IDLE 30s, NORMAL 5s, INTENSIVE 1s, CRITICAL
// 500ms by default), keeps the last snapshots, turns thresholds into RESOURCE_WARNING /
// RESOURCE_CRITICAL conditions, moves between levels (LEVEL_CHANGED), prints a status line
// at the level's report interval, and lets the resource protector act on monopolising
// processes and full disks.
//
// For other components (RunContext::monitor points here once the run has one):
//  - level() / reason(): where the monitor is and why (thread-safe);
//  - on_level_change(): called on the run's thread after every transition — e.g. a health
//    probe following the level (NORMAL 5s, INTENSIVE 1s, CRITICAL 500ms);
//  - raise_condition() / clear_condition(): a condition held until cleared ("server api is
//    down" → critical → CRITICAL at once); pulse(): a one-off event (a ceiling kill);
//  - heavy_phase(): code running something heavy asks for at least INTENSIVE while the
//    returned guard lives;
//  - snapshots_json(): snapshots in a time window, for the status API (thread-safe).
// raise_condition, clear_condition, pulse and heavy_phase may be called from any thread
// (the change is carried out on the run's thread); on_level_change and
// remove_level_listener must be called on the run's thread. A HeavyPhase guard must not
// outlive the Monitor (the run).
#include <sys/types.h>

#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "guardian/monitor/monitor_settings.hpp"
#include "guardian/monitor/process_actions.hpp"
#include "guardian/monitor/process_walk.hpp"
#include "guardian/monitor/progressive_monitor.hpp"
#include "guardian/monitor/resource_protector.hpp"
#include "guardian/monitor/sampler.hpp"
#include "guardian/monitor/snapshot_ring.hpp"
#include "guardian/monitor/threshold_tracker.hpp"

namespace guardian::context {
struct RunContext;
}

namespace guardian::monitor {

class Monitor {
 public:
  Monitor(context::RunContext& run, MonitorSettings settings);
  ~Monitor();
  Monitor(const Monitor&) = delete;
  Monitor& operator=(const Monitor&) = delete;

  /// Starts watching the run's tree: `tree` samples it at each check (the limiters of the
  /// command and of every server, summed); `members` finds its processes for the
  /// per-process walk, with the subtrees that are not the run's excluded (the sentinel);
  /// `is_root` names the processes guardian started itself (the command, each server's
  /// root), which the protector never touches. The first check runs at once.
  void watch(Sampler::TreeSource tree, process::TreeMembership members, ProcessWalker::IsRoot is_root);
  /// A limiter that samples on its own schedule (the watchdog) hands its samples to the
  /// monitor's CPU and memory thresholds, which then read them instead of the checks' own:
  /// a breach is seen at the limiter's cadence, not the level's. For a run whose whole tree
  /// is that limiter's (the thresholds read what it samples).
  void follow_samples(limits::Limiter& limiter);
  /// Stops sampling (the tree has ended); queries keep answering with what was seen.
  void stop();

  Level level() const;
  std::string reason() const;

  using LevelListener = std::function<void(const LevelChange& change)>;
  /// Returns an id for remove_level_listener.
  std::size_t on_level_change(LevelListener listener);
  void remove_level_listener(std::size_t id);

  void raise_condition(const std::string& key, Severity severity, const std::string& reason);
  void clear_condition(const std::string& key);
  void pulse(Severity severity, const std::string& reason);

  /// Ends the heavy phase when destroyed.
  class HeavyPhase {
   public:
    HeavyPhase() = default;
    HeavyPhase(HeavyPhase&& other) noexcept : monitor_(std::exchange(other.monitor_, nullptr)), name_(std::move(other.name_)) {}
    HeavyPhase& operator=(HeavyPhase&& other) noexcept;
    ~HeavyPhase() { end(); }
    void end();

   private:
    friend class Monitor;
    HeavyPhase(Monitor* monitor, std::string name) : monitor_(monitor), name_(std::move(name)) {}
    Monitor* monitor_ = nullptr;
    std::string name_;
  };
  [[nodiscard]] HeavyPhase heavy_phase(const std::string& name);

  /// {"count", "capacity", "snapshots": [...]} in the window (thread-safe).
  nlohmann::json snapshots_json(const SnapshotQuery& query) const { return ring_.query_json(query); }
  std::optional<Snapshot> latest_snapshot() const { return ring_.latest(); }
  const MonitorSettings& settings() const { return settings_; }

  /// The run report's "monitor" section.
  nlohmann::json report_section() const;
  std::uint64_t peak_memory_bytes() const { return peak_memory_bytes_; }
  std::uint64_t peak_processes() const { return peak_processes_; }
  std::optional<double> peak_cpu_percent_of_core() const { return peak_cpu_percent_; }

 private:
  void check();
  /// A sample the limiter took (the watchdog's): the CPU and memory thresholds read it.
  /// Returns true when the next sample should come soon (a reading to confirm).
  bool observe_tree(const limits::TreeUsage& usage, SteadyTime now);
  void feed_thresholds(const TreeReading& reading, SteadyTime now);
  void schedule(SteadyTime now);
  void arm(SteadyTime at);
  void announce(const std::optional<LevelChange>& change);
  void apply(const ConditionChange& change, SteadyTime now);
  template <typename F>
  void on_run_thread(F&& f);

  // The protector's actions carried out (monitor_actions.cpp).
  void act(const std::vector<ProtectorAction>& actions, SteadyTime now);
  void clean_disk(const std::string& path, SteadyTime now);
  void record_action(nlohmann::json action);

  // Status lines and the report's section (monitor_report.cpp).
  void begin_reports();
  void report(const Snapshot& snapshot, SteadyTime now);

  context::RunContext& run_;
  MonitorSettings settings_;
  ProgressiveMonitor progressive_;
  ThresholdSet thresholds_;
  ResourceProtector protector_;
  SnapshotRing ring_;
  ProcessActions actions_;
  boost::asio::steady_timer timer_;
  std::optional<Sampler> sampler_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // for follow_samples' listener
  bool streamed_ = false;  // the limiter handed the last sample to observe_tree()
  std::optional<ProcessWalker> walker_;
  SteadyTime started_at_;
  SteadyTime armed_for_{};
  std::uint64_t generation_ = 0;
  bool stopped_ = false;
  SteadyTime last_report_at_{};
  std::uint64_t alerts_at_last_report_ = 0;

  mutable std::mutex state_mutex_;  // guards the two copies below, read from other threads
  Level level_copy_;
  std::string reason_copy_;

  std::map<std::size_t, LevelListener> listeners_;
  std::size_t next_listener_id_ = 1;

  std::uint64_t checks_ = 0;
  std::uint64_t walks_ = 0;
  // guardian's own cost, for the report's "cost" entry (the monitor must not weigh on the machine).
  std::uint64_t check_cpu_nsec_ = 0;          // thread CPU time spent inside check()
  std::uint64_t process_cpu_usec_at_watch_ = 0;  // guardian's whole CPU time (RUSAGE_SELF) at watch()
  SteadyTime watched_at_{};
  std::uint64_t peak_memory_bytes_ = 0;
  std::uint64_t peak_processes_ = 0;
  std::uint64_t peak_threads_ = 0;
  std::optional<double> peak_cpu_percent_;
  std::uint64_t disk_bytes_freed_ = 0;
  nlohmann::json transitions_ = nlohmann::json::array();
  std::uint64_t transitions_total_ = 0;
  nlohmann::json actions_log_ = nlohmann::json::array();
};

}  // namespace guardian::monitor
