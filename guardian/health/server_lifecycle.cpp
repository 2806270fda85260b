#include "guardian/health/server_lifecycle.hpp"

#include <fmt/format.h>

#include "guardian/config/quantity.hpp"

namespace guardian::health {

std::string_view to_string(ServerState state) {
  switch (state) {
    case ServerState::idle: return "idle";
    case ServerState::starting: return "starting";
    case ServerState::running: return "running";
    case ServerState::stopping: return "stopping";
    case ServerState::backoff: return "backoff";
    case ServerState::exited: return "exited";
    case ServerState::fatal: return "fatal";
    case ServerState::stopped: return "stopped";
  }
  return "idle";
}

std::string_view to_string(StartFailure reason) {
  switch (reason) {
    case StartFailure::timed_out: return "timed_out";
    case StartFailure::exited: return "exited";
    case StartFailure::launch_failed: return "launch_failed";
  }
  return "timed_out";
}

std::string_view to_string(DownReason reason) {
  return reason == DownReason::exited ? "exited" : "unhealthy";
}

std::string_view to_string(GiveUpReason reason) {
  switch (reason) {
    case GiveUpReason::breaker: return "circuit_breaker";
    case GiveUpReason::never_healthy: return "never_healthy";
    case GiveUpReason::policy: return "restart_policy";
  }
  return "circuit_breaker";
}

ServerLifecycle::ServerLifecycle(LifecycleSettings settings, LifecycleObserver& observer)
    : settings_(std::move(settings)),
      observer_(observer),
      schedule_(settings_.startup_timeouts),
      backoff_(settings_.restart_delay, settings_.backoff_cap, settings_.stable_uptime),
      breaker_(settings_.breaker_failures, settings_.breaker_window),
      flaps_(settings_.flap_downs, settings_.flap_window) {
  if (settings_.unhealthy_after == 0) settings_.unhealthy_after = 1;
}

void ServerLifecycle::start(TimePoint now) {
  if (state_ == ServerState::idle) launch_attempt(now);
}

void ServerLifecycle::launch_attempt(TimePoint now) {
  state_ = ServerState::starting;
  attempt_started_ = now;
  consecutive_failures_ = 0;
  ++launches_;
  AttemptInfo info{launches_, static_cast<unsigned>(schedule_.failed_attempts() + 1), schedule_.current()};
  tree_alive_ = true;
  if (!observer_.launch(info)) {
    tree_alive_ = false;
    fail_start(now, StartFailure::launch_failed, "could not be launched");
  }
}

void ServerLifecycle::fail_start(TimePoint now, StartFailure reason, std::string detail) {
  StartFailureInfo info;
  info.reason = reason;
  info.elapsed = std::chrono::duration_cast<Milliseconds>(now - attempt_started_);
  info.startup_timeout = schedule_.current();
  info.detail = std::move(detail);
  schedule_.record_failure();
  ++failed_starts_total_;
  info.failed_attempts = static_cast<unsigned>(schedule_.failed_attempts());

  bool tripped = breaker_.record_failure(now);
  if (tripped) {
    give_up_ = GiveUpInfo{GiveUpReason::breaker, info.failed_attempts,
                          fmt::format("{} failed starts within {} (the limit is {})", breaker_.recent_failures(),
                                      config::format_duration(breaker_.window()), breaker_.max_failures())};
  } else if (!ever_healthy_ && settings_.initial_attempts > 0 && info.failed_attempts >= settings_.initial_attempts) {
    give_up_ = GiveUpInfo{GiveUpReason::never_healthy, info.failed_attempts,
                          fmt::format("never became healthy in {} attempts", info.failed_attempts)};
  } else if (settings_.restart == RestartPolicy::never) {
    give_up_ = GiveUpInfo{GiveUpReason::policy, info.failed_attempts, "restart policy 'never'"};
  }
  if (give_up_) {
    after_stop_ = AfterStop::give_up;
  } else {
    after_stop_ = AfterStop::restart;
    pending_delay_ = backoff_.next_delay(std::nullopt);
    info.retry_in = pending_delay_;
    info.next_startup_timeout = schedule_.current();
  }
  state_ = ServerState::stopping;
  observer_.start_failed(info);
  if (reason == StartFailure::timed_out) observer_.stop_tree();
  if (!tree_alive_) finish_stop();
}

void ServerLifecycle::go_down(TimePoint now, DownReason reason, bool clean_exit, std::string detail) {
  DownInfo info;
  info.reason = reason;
  info.uptime = std::chrono::duration_cast<Milliseconds>(now - healthy_since_);
  info.clean_exit = clean_exit;
  info.detail = std::move(detail);
  ++downs_;
  info.flap = flaps_.record_down(now);
  info.recent_downs = static_cast<unsigned>(flaps_.recent_downs());
  if (should_restart(settings_.restart, clean_exit)) {
    after_stop_ = AfterStop::restart;
    pending_delay_ = backoff_.next_delay(info.uptime);
    info.restart_in = pending_delay_;
  } else {
    after_stop_ = AfterStop::rest;
  }
  state_ = ServerState::stopping;
  observer_.down(info);
  if (reason == DownReason::unhealthy) observer_.stop_tree();
}

void ServerLifecycle::on_probe(TimePoint now, ProbeClass probe_class, Milliseconds latency, std::string_view detail) {
  bool good = probe_class != ProbeClass::failure;
  if (state_ == ServerState::starting) {
    if (!good) return;  // not up yet: the startup deadline decides
    state_ = ServerState::running;
    healthy_since_ = now;
    ever_healthy_ = true;
    HealthyInfo info;
    info.startup_time = std::chrono::duration_cast<Milliseconds>(now - attempt_started_);
    info.attempts = static_cast<unsigned>(schedule_.failed_attempts() + 1);
    info.slow = info.startup_time > settings_.slow_start;
    info.restart = launches_ > 1;
    info.flapping = flaps_.flapping();
    startup_times_.push_back(info.startup_time);
    // A successful start forgives the failures before it (not the backoff: that waits
    // for a stable uptime).
    schedule_.reset();
    breaker_.reset();
    observer_.healthy(info);
    if (info.flapping) observer_.schedule_stable_check(settings_.stable_uptime);
    if (probe_class != ProbeClass::ok) observer_.slow_probe(probe_class, latency);
    return;
  }
  if (state_ != ServerState::running) return;
  if (!good) {
    ++consecutive_failures_;
    if (consecutive_failures_ >= settings_.unhealthy_after) {
      go_down(now, DownReason::unhealthy, false,
              fmt::format("{} health checks failed in a row (last: {})", consecutive_failures_, detail));
    } else if (consecutive_failures_ == 1) {
      observer_.probe_failing(consecutive_failures_, settings_.unhealthy_after);
    }
    return;
  }
  if (consecutive_failures_ > 0) observer_.probe_recovered(consecutive_failures_);
  consecutive_failures_ = 0;
  if (probe_class != ProbeClass::ok) observer_.slow_probe(probe_class, latency);
}

void ServerLifecycle::on_startup_deadline(TimePoint now) {
  if (state_ != ServerState::starting) return;
  fail_start(now, StartFailure::timed_out,
             fmt::format("no healthy answer within {}", config::format_duration(schedule_.current())));
}

void ServerLifecycle::on_exited(TimePoint now, bool clean_exit, std::string detail) {
  if (state_ == ServerState::starting) fail_start(now, StartFailure::exited, std::move(detail));
  else if (state_ == ServerState::running) go_down(now, DownReason::exited, clean_exit, std::move(detail));
}

void ServerLifecycle::on_finished(TimePoint /*now*/) {
  if (!tree_alive_) return;
  tree_alive_ = false;
  if (state_ == ServerState::stopping) finish_stop();
}

void ServerLifecycle::finish_stop() {
  switch (after_stop_) {
    case AfterStop::restart:
      state_ = ServerState::backoff;
      observer_.schedule_restart(pending_delay_);
      return;
    case AfterStop::rest:
      state_ = ServerState::exited;
      observer_.settled(state_);
      return;
    case AfterStop::give_up:
      state_ = ServerState::fatal;
      observer_.gave_up(*give_up_);
      return;
    case AfterStop::shutdown:
      state_ = ServerState::stopped;
      observer_.settled(state_);
      return;
  }
}

void ServerLifecycle::on_restart_due(TimePoint now) {
  if (state_ == ServerState::backoff) launch_attempt(now);
}

void ServerLifecycle::on_stable_due(TimePoint now) {
  if (state_ != ServerState::running || !flaps_.flapping()) return;
  const auto uptime = std::chrono::duration_cast<Milliseconds>(now - healthy_since_);
  if (uptime < settings_.stable_uptime) {  // a stale check from an earlier healthy phase
    observer_.schedule_stable_check(settings_.stable_uptime - uptime);
    return;
  }
  StableInfo info{uptime, flaps_.downs_while_flapping()};
  flaps_.end();
  observer_.stable_again(info);
}

bool ServerLifecycle::request_stop(TimePoint /*now*/) {
  switch (state_) {
    case ServerState::starting:
    case ServerState::running:
    case ServerState::stopping:
      // A give-up already decided stays the outcome; anything else becomes a requested stop.
      if (after_stop_ != AfterStop::give_up) after_stop_ = AfterStop::shutdown;
      state_ = ServerState::stopping;
      observer_.stop_tree();
      if (!tree_alive_) finish_stop();
      return tree_alive_;
    case ServerState::backoff:
      observer_.cancel_restart();
      state_ = ServerState::stopped;
      observer_.settled(state_);
      return false;
    case ServerState::idle:
      state_ = ServerState::stopped;
      return false;
    case ServerState::exited:
    case ServerState::fatal:
    case ServerState::stopped:
      return false;
  }
  return false;
}

}  // namespace guardian::health
