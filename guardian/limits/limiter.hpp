#pragma once
// The one interface through which guardian holds a supervised command's whole tree:
// placing it (before exec), signalling and killing every process of it (escapees
// included), sampling its use, and enforcing ceilings. Backends: cgroup v2, the /proc
// watchdog, and none; exactly one place (make_limiter) chooses between them.
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "guardian/process/sentinel.hpp"
#include "guardian/process/tree_membership.hpp"

namespace guardian::limits {

enum class Backend { cgroup_v2, watchdog, none };
std::string_view to_string(Backend backend);

/// A cheap sample of the whole tree's use.
struct TreeUsage {
  std::uint64_t cpu_usec = 0;          // cumulative CPU of the live tree (cgroup: of all it ever ran)
  std::uint64_t memory_bytes = 0;      // resident now
  std::optional<std::uint64_t> memory_peak_bytes;  // when the backend knows it exactly
  std::uint64_t processes = 0;
  std::uint64_t threads = 0;
  std::uint64_t cpu_throttled_usec = 0;  // time the CPU ceiling held the tree back so far
  std::uint64_t cpu_nr_throttled = 0;    // periods (cgroup) or duty cycles (watchdog) it was held

  // Read by the monitor (guardian/monitor/sampler.hpp); each backend fills what it knows
  // cheaply and leaves the rest empty (the monitor then falls back to the machine, /proc).
  std::optional<double> cpu_ceiling_cores;            // the CPU ceiling enforced on the tree
  std::optional<std::uint64_t> memory_ceiling_bytes;  // the memory ceiling enforced on the tree
  std::optional<std::uint64_t> io_read_bytes;         // storage IO of the tree (cgroup: io.stat rbytes)
  std::optional<std::uint64_t> io_write_bytes;        // (cgroup: io.stat wbytes)
  std::optional<std::uint64_t> open_fds;
  struct Pressure {  // PSI avg10 of the tree's own cgroup (cpu.pressure, memory.pressure, io.pressure)
    std::optional<double> some_avg10;
    std::optional<double> full_avg10;
  };
  std::optional<Pressure> cpu_pressure;
  std::optional<Pressure> memory_pressure;
  std::optional<Pressure> io_pressure;
};

/// A ceiling the tree hit (memory: the tree is killed and the run names it).
struct Breach {
  enum class Kind { memory_ceiling, pids_ceiling };
  Kind kind = Kind::memory_ceiling;
  std::string message;              // one human line: what hit which ceiling
  std::uint64_t ceiling = 0;        // bytes or tasks
  std::uint64_t peak = 0;           // the highest use seen
  std::uint64_t oom_kills = 0;      // kernel OOM kills in the tree (cgroup)
  bool kernel_killed = false;       // the kernel already killed the tree; else the caller must stop it
  std::chrono::milliseconds grace{1000};  // when the caller stops it: SIGTERM, then SIGKILL after this
  std::uint64_t throttled_ms = 0;   // how long the kernel throttled the tree at memory.high before
  // pids: the tree kept forking against its ceiling past the grace and was ended (else the
  // breach only says the ceiling was reached). A memory breach always ends the tree.
  bool tree_ended = true;
  nlohmann::json to_json() const {
    return {{"kind", kind == Kind::memory_ceiling ? "memory_ceiling" : "pids_ceiling"},
            {"ceiling", ceiling}, {"peak", peak}, {"oom_kills", oom_kills},
            {"kernel_killed", kernel_killed}, {"throttled_ms", throttled_ms}, {"tree_ended", tree_ended},
            {"message", message}};
  }
};

class Limiter {
 public:
  virtual ~Limiter() = default;

  virtual Backend backend() const = 0;
  /// One line for stderr and the event log: what is enforced, and how.
  virtual std::string summary() const = 0;
  /// The run report's "enforcement" section.
  virtual nlohmann::json report() const = 0;

  /// Runs in the forked child before exec; async-signal-safe only. 0 or an errno value.
  virtual int enter_from_child() const noexcept { return 0; }
  /// Called with the command's root pid (also its process group) right after launch.
  virtual void started(pid_t root_pid) = 0;

  /// Sends `signo` to every process of the tree; returns how many were signalled.
  virtual std::size_t signal_all(int signo) = 0;
  /// Calls `done` once no process of the tree is left.
  virtual void async_wait_empty(std::function<void()> done) = 0;
  /// SIGKILLs every process of the tree; `done(killed)` once none is left.
  virtual void kill_all(std::function<void(std::size_t killed)> done) = 0;
  /// Abandons pending waits (shutdown).
  virtual void cancel() = 0;

  virtual TreeUsage sample() = 0;
  /// Removes what was set up for the command (e.g. its cgroup). After the tree is empty.
  virtual void release() {}

  /// `handler` runs on the event loop when the tree hits a ceiling (once per ceiling).
  void on_breach(std::function<void(const Breach&)> handler) { breach_handler_ = std::move(handler); }
  /// A backend that samples the tree on its own schedule (the watchdog) hands every sample
  /// it takes to `listener` too, on the event loop, so the monitor reads its thresholds from
  /// them instead of walking the tree a second time. The listener returns true when it wants
  /// the next sample soon (a reading to confirm, a sudden rise).
  using SampleListener = std::function<bool(const TreeUsage& usage, std::chrono::steady_clock::time_point at)>;
  void on_sample(SampleListener listener) { sample_listener_ = std::move(listener); }
  /// Whether samples reach a listener (then the listener sees every sample the backend takes).
  virtual bool publishes_samples() const { return false; }
  /// A file that kills the whole tree when "1" is written to it (cgroup.kill), for the
  /// sentinel to use if guardian dies; empty when the backend has none.
  virtual std::string kill_file() const { return {}; }
  /// What the sentinel must undo after that kill if guardian dies (remove the run's cgroups,
  /// give back what it enabled in its parent); empty when the backend changed nothing.
  virtual std::vector<process::UndoStep> undo_after_death() const { return {}; }
  /// How the backend finds the tree's processes through /proc, when it does (the dev-server
  /// fleet excludes servers it restarts later from the main command's tree through it).
  virtual process::TreeMembership* membership() { return nullptr; }

 protected:
  void report_breach(const Breach& breach) const {
    if (breach_handler_) breach_handler_(breach);
  }
  bool publish_sample(const TreeUsage& usage, std::chrono::steady_clock::time_point at) const {
    return sample_listener_ && sample_listener_(usage, at);
  }
  bool has_sample_listener() const { return static_cast<bool>(sample_listener_); }

 private:
  std::function<void(const Breach&)> breach_handler_;
  SampleListener sample_listener_;
};

}  // namespace guardian::limits
