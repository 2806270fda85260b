#pragma once
// The life of one dev server as a pure state machine on an injected clock: launch with a
// growing startup timeout, healthy on the first good probe, down on exit or after N failed
// probes, restart by policy with backoff, flapping when it goes down again and again
// (until it stays up for the stable period), give up when the circuit breaker trips. It
// decides; a LifecycleObserver (the ServerSupervisor, or a test) acts and reports.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "guardian/health/circuit_breaker.hpp"
#include "guardian/health/flap_detector.hpp"
#include "guardian/health/probe_result.hpp"
#include "guardian/health/restart_policy.hpp"
#include "guardian/health/startup_schedule.hpp"

namespace guardian::health {

using Milliseconds = std::chrono::milliseconds;
using TimePoint = std::chrono::steady_clock::time_point;

enum class ServerState {
  idle,      // not started yet
  starting,  // launched, waiting for the first good probe
  running,   // healthy at least once since launch
  stopping,  // its tree is being stopped (or is ending by itself)
  backoff,   // down, waiting to be started again
  exited,    // down for good by the restart policy
  fatal,     // given up (circuit breaker, or never healthy)
  stopped,   // stopped on request
};
std::string_view to_string(ServerState state);

struct LifecycleSettings {
  std::vector<Milliseconds> startup_timeouts = StartupSchedule::default_timeouts();
  Milliseconds slow_start{30000};  // a start slower than this is a SERVER_SLOW condition
  RestartPolicy restart = RestartPolicy::always;
  Milliseconds restart_delay{500};  // first backoff delay
  Milliseconds backoff_cap{30000};
  Milliseconds stable_uptime{60000};  // healthy this long: the backoff starts over, flapping ends
  unsigned flap_downs = 3;            // this many downs within flap_window: flapping (0: never)
  Milliseconds flap_window{120000};
  unsigned unhealthy_after = 3;       // consecutive failed probes
  unsigned breaker_failures = 5;      // more failed starts than this within the window: fatal
  Milliseconds breaker_window{600000};
  unsigned initial_attempts = 0;      // > 0: give up if never healthy after this many failed starts
};

struct AttemptInfo {
  unsigned launch = 0;            // 1 for the first launch, 2 for the next, …
  unsigned attempt = 0;           // 1-based since the last successful start
  Milliseconds startup_timeout{0};
};

struct HealthyInfo {
  Milliseconds startup_time{0};
  unsigned attempts = 0;  // attempts this start needed
  bool slow = false;      // slower than LifecycleSettings::slow_start
  bool restart = false;   // not the first launch
  bool flapping = false;  // still in a flapping phase: not news until it has been stable
};

// A flapping server has stayed healthy for the stable period.
struct StableInfo {
  Milliseconds uptime{0};
  unsigned downs = 0;  // downs during the flapping phase
};

enum class StartFailure { timed_out, exited, launch_failed };
std::string_view to_string(StartFailure reason);

struct StartFailureInfo {
  StartFailure reason = StartFailure::timed_out;
  Milliseconds elapsed{0};
  Milliseconds startup_timeout{0};
  unsigned failed_attempts = 0;  // since the last successful start, this one included
  std::string detail;
  std::optional<Milliseconds> retry_in;  // empty: no retry (given up)
  std::optional<Milliseconds> next_startup_timeout;
};

enum class DownReason { exited, unhealthy };
std::string_view to_string(DownReason reason);

struct DownInfo {
  DownReason reason = DownReason::exited;
  Milliseconds uptime{0};  // healthy for this long
  bool clean_exit = false;
  std::string detail;
  std::optional<Milliseconds> restart_in;  // empty: not restarted (policy)
  FlapDetector::Down flap = FlapDetector::Down::single;
  unsigned recent_downs = 0;  // downs within the flap window, this one included
};

enum class GiveUpReason { breaker, never_healthy, policy };
std::string_view to_string(GiveUpReason reason);

struct GiveUpInfo {
  GiveUpReason reason = GiveUpReason::breaker;
  unsigned failed_starts = 0;  // in a row
  std::string detail;
};

class LifecycleObserver {
 public:
  virtual ~LifecycleObserver() = default;
  // Actions.
  /// Launch now and arm the startup deadline. False if nothing could be launched (the
  /// observer says why); the state machine then counts a failed start.
  virtual bool launch(const AttemptInfo& attempt) = 0;
  /// Stop the running tree; on_finished follows once it is gone.
  virtual void stop_tree() = 0;
  virtual void schedule_restart(Milliseconds delay) = 0;
  virtual void cancel_restart() = 0;
  /// A flapping server is healthy: call on_stable_due after `delay`.
  virtual void schedule_stable_check(Milliseconds /*delay*/) {}
  // Notices.
  virtual void healthy(const HealthyInfo&) {}
  virtual void start_failed(const StartFailureInfo&) {}
  virtual void probe_failing(unsigned /*consecutive*/, unsigned /*limit*/) {}
  virtual void probe_recovered(unsigned /*failures*/) {}
  virtual void slow_probe(ProbeClass, Milliseconds /*latency*/) {}
  virtual void down(const DownInfo&) {}
  /// A flapping server stayed healthy for the stable period: flapping is over.
  virtual void stable_again(const StableInfo&) {}
  /// After the last tree is gone; the state is now fatal.
  virtual void gave_up(const GiveUpInfo&) {}
  /// After the last tree is gone; the state is now exited or stopped.
  virtual void settled(ServerState) {}
};

class ServerLifecycle {
 public:
  ServerLifecycle(LifecycleSettings settings, LifecycleObserver& observer);

  void start(TimePoint now);
  void on_probe(TimePoint now, ProbeClass probe_class, Milliseconds latency, std::string_view detail = {});
  void on_startup_deadline(TimePoint now);
  /// The server's root process ended. `clean_exit`: it exited with status 0.
  void on_exited(TimePoint now, bool clean_exit, std::string detail);
  /// The launched tree is gone (root ended and every process of it).
  void on_finished(TimePoint now);
  void on_restart_due(TimePoint now);
  /// The stable check asked for by schedule_stable_check is due.
  void on_stable_due(TimePoint now);
  /// Stop for good. True while a tree is still being stopped (on_finished follows).
  bool request_stop(TimePoint now);

  ServerState state() const { return state_; }
  bool tree_alive() const { return tree_alive_; }
  bool ever_healthy() const { return ever_healthy_; }
  unsigned launches() const { return launches_; }
  unsigned restarts() const { return launches_ > 0 ? launches_ - 1 : 0; }
  unsigned failed_starts_total() const { return failed_starts_total_; }
  unsigned downs() const { return downs_; }
  unsigned consecutive_probe_failures() const { return consecutive_failures_; }
  const std::vector<Milliseconds>& startup_times() const { return startup_times_; }
  const StartupSchedule& schedule() const { return schedule_; }
  const CircuitBreaker& breaker() const { return breaker_; }
  bool flapping() const { return flaps_.flapping(); }
  const LifecycleSettings& settings() const { return settings_; }
  std::optional<GiveUpInfo> give_up() const { return give_up_; }

 private:
  enum class AfterStop { restart, rest, give_up, shutdown };
  void launch_attempt(TimePoint now);
  void fail_start(TimePoint now, StartFailure reason, std::string detail);
  void go_down(TimePoint now, DownReason reason, bool clean_exit, std::string detail);
  void finish_stop();

  LifecycleSettings settings_;
  LifecycleObserver& observer_;
  StartupSchedule schedule_;
  RestartBackoff backoff_;
  CircuitBreaker breaker_;
  FlapDetector flaps_;
  ServerState state_ = ServerState::idle;
  AfterStop after_stop_ = AfterStop::shutdown;
  Milliseconds pending_delay_{0};
  std::optional<GiveUpInfo> give_up_;
  TimePoint attempt_started_{};
  TimePoint healthy_since_{};
  bool tree_alive_ = false;
  bool ever_healthy_ = false;
  unsigned launches_ = 0;
  unsigned failed_starts_total_ = 0;
  unsigned downs_ = 0;
  unsigned consecutive_failures_ = 0;
  std::vector<Milliseconds> startup_times_;
};

}  // namespace guardian::health
