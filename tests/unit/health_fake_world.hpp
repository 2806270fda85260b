// A fake world for ServerLifecycle tests: a fake clock, the timers the lifecycle asks for,
// and a server model (healthy after some time, or crashing), so whole startup and restart
// histories — the real 90/120/180/240 s arithmetic included — run in microseconds.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "guardian/health/server_lifecycle.hpp"

namespace guardian::health::testing {

using namespace std::chrono_literals;

class FakeWorld : public LifecycleObserver {
 public:
  // What the server does on launch N (1-based): become healthy after a delay, exit after a
  // delay, or nothing (hang).
  struct Behaviour {
    std::optional<Milliseconds> healthy_after;
    std::optional<Milliseconds> exits_after;
    bool clean_exit = false;
  };

  explicit FakeWorld(LifecycleSettings settings) : lifecycle(std::move(settings), *this) {}

  std::function<Behaviour(unsigned launch)> behaviour = [](unsigned) { return Behaviour{}; };

  // Time since the start of the test.
  Milliseconds elapsed() const { return std::chrono::duration_cast<Milliseconds>(now - epoch); }
  double seconds() const { return static_cast<double>(elapsed().count()) / 1000.0; }

  // Advances to the next event and delivers it; false when nothing is pending.
  bool step() {
    if (finish_pending) {
      finish_pending = false;
      lifecycle.on_finished(now);
      return true;
    }
    std::optional<TimePoint> next;
    auto consider = [&](const std::optional<TimePoint>& t) {
      if (t && (!next || *t < *next)) next = t;
    };
    consider(healthy_at);
    consider(exit_at);
    consider(deadline);
    consider(restart_at);
    consider(stable_at);
    if (!next) return false;
    now = *next;
    if (exit_at && *exit_at == now) {
      exit_at.reset();
      healthy_at.reset();
      lifecycle.on_exited(now, exit_clean, exit_clean ? "exited with 0" : "exited with 1");
      finish_pending = true;  // the tree ends with its root
    } else if (healthy_at && *healthy_at == now) {
      healthy_at.reset();
      lifecycle.on_probe(now, ProbeClass::ok, 5ms, "HTTP 200");
    } else if (deadline && *deadline == now) {
      deadline.reset();
      lifecycle.on_startup_deadline(now);
    } else if (restart_at && *restart_at == now) {
      restart_at.reset();
      lifecycle.on_restart_due(now);
    } else if (stable_at && *stable_at == now) {
      stable_at.reset();
      lifecycle.on_stable_due(now);
    }
    return true;
  }

  // Runs until `done` holds or nothing is pending (bounded).
  void run_until(const std::function<bool()>& done, int max_steps = 10000) {
    for (int i = 0; i < max_steps && !done(); ++i)
      if (!step()) return;
  }

  void advance(Milliseconds by) { now += by; }

  // ---- LifecycleObserver ----
  bool launch(const AttemptInfo& attempt) override {
    launches.push_back(attempt);
    launch_times.push_back(elapsed());
    if (fail_launches) return false;
    deadline = now + attempt.startup_timeout;
    auto b = behaviour(attempt.launch);
    healthy_at = b.healthy_after ? std::optional<TimePoint>(now + *b.healthy_after) : std::nullopt;
    exit_at = b.exits_after ? std::optional<TimePoint>(now + *b.exits_after) : std::nullopt;
    exit_clean = b.clean_exit;
    return true;
  }
  void stop_tree() override {
    ++stops;
    healthy_at.reset();
    exit_at.reset();
    deadline.reset();
    if (lifecycle.tree_alive()) finish_pending = true;  // the fake tree ends at once
  }
  void schedule_restart(Milliseconds delay) override {
    restart_delays.push_back(delay);
    restart_at = now + delay;
  }
  void cancel_restart() override {
    ++restart_cancels;
    restart_at.reset();
  }
  void schedule_stable_check(Milliseconds delay) override { stable_at = now + delay; }
  void stable_again(const StableInfo& info) override { stable_notices.push_back(info); }
  void healthy(const HealthyInfo& info) override {
    deadline.reset();
    healthy_notices.push_back(info);
  }
  void start_failed(const StartFailureInfo& info) override {
    deadline.reset();
    start_failures.push_back(info);
  }
  void probe_failing(unsigned consecutive, unsigned) override { probe_failing_notices.push_back(consecutive); }
  void probe_recovered(unsigned failures) override { recovered_notices.push_back(failures); }
  void slow_probe(ProbeClass probe_class, Milliseconds) override { slow_notices.push_back(probe_class); }
  void down(const DownInfo& info) override { downs.push_back(info); }
  void gave_up(const GiveUpInfo& info) override { give_ups.push_back(info); }
  void settled(ServerState state) override { settled_states.push_back(state); }

  TimePoint epoch = TimePoint{} + 1000h;  // any fixed point: the lifecycle only subtracts
  TimePoint now = epoch;
  std::optional<TimePoint> healthy_at, exit_at, deadline, restart_at, stable_at;
  bool exit_clean = false;
  bool finish_pending = false;
  bool fail_launches = false;

  std::vector<AttemptInfo> launches;
  std::vector<Milliseconds> launch_times;
  std::vector<Milliseconds> restart_delays;
  std::vector<HealthyInfo> healthy_notices;
  std::vector<StartFailureInfo> start_failures;
  std::vector<unsigned> probe_failing_notices;
  std::vector<unsigned> recovered_notices;
  std::vector<ProbeClass> slow_notices;
  std::vector<DownInfo> downs;
  std::vector<StableInfo> stable_notices;
  std::vector<GiveUpInfo> give_ups;
  std::vector<ServerState> settled_states;
  int stops = 0;
  int restart_cancels = 0;

  ServerLifecycle lifecycle;  // last: built after everything it reports into
};

}  // namespace guardian::health::testing
