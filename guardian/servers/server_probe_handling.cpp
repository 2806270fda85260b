// ServerSupervisor's health probes: when the next probe runs (fast while the server
// starts, then at the monitor's level or the pinned interval), what an answer, a failure
// or a timeout feeds the lifecycle, and the notices a probe leads to (a failed check, a
// recovered one, a slow answer: SERVER_SLOW). SERVER_DOWN and SERVER_UP are in
// server_notices.cpp: a server also goes down when it exits.
#include <algorithm>
#include <fmt/format.h>

#include "guardian/servers/server_supervisor.hpp"
#include "guardian/servers/server_text.hpp"

namespace guardian::servers {
namespace {

using Clock = std::chrono::steady_clock;
using Milliseconds = std::chrono::milliseconds;
using health::ServerState;
using namespace std::chrono_literals;

// While a server starts it is probed this often (or at the monitor's interval if shorter),
// so "healthy" is noticed quickly whatever the level.
constexpr Milliseconds kStartupProbeInterval = 100ms;

}  // namespace

ServerSupervisor::Milliseconds ServerSupervisor::probe_interval() const {
  return spec_.pinned_probe_interval.value_or(level_interval_);
}

void ServerSupervisor::set_probe_interval(Milliseconds interval) {
  if (interval.count() <= 0) return;
  level_interval_ = interval;
  if (spec_.pinned_probe_interval || probe_in_flight_ || lifecycle_.state() != ServerState::running) return;
  // A shorter interval takes effect now, not after the longer wait already armed.
  auto due = probe_started_ + interval;
  if (due < probe_timer_.expiry())
    schedule_probe(std::max(Milliseconds{0}, std::chrono::duration_cast<Milliseconds>(due - Clock::now())));
}

ServerSupervisor::Milliseconds ServerSupervisor::startup_probe_interval() const {
  return std::min(kStartupProbeInterval, probe_interval());
}

void ServerSupervisor::schedule_probe(Milliseconds delay) {
  probe_timer_.expires_after(delay);
  probe_timer_.async_wait([this](const boost::system::error_code& error) {
    if (!error) run_probe();
  });
}

void ServerSupervisor::run_probe() {
  auto state = lifecycle_.state();
  if (!probe_ || (state != ServerState::starting && state != ServerState::running)) return;
  probe_in_flight_ = true;
  probe_started_ = Clock::now();
  probe_->start(spec_.probe_timeout,
                [this, id = attempt_id_](health::ProbeResult result) { on_probe_result(id, result); });
}

void ServerSupervisor::on_probe_result(unsigned attempt_id, const health::ProbeResult& result) {
  probe_in_flight_ = false;
  if (attempt_id != attempt_id_) return;
  last_probe_ = result;
  lifecycle_.on_probe(Clock::now(), health::classify(result, spec_.slow), result.latency, result.detail);
  publish_state(&result);
  auto state = lifecycle_.state();
  if (state == ServerState::starting || state == ServerState::running) {
    auto interval = state == ServerState::starting ? startup_probe_interval() : probe_interval();
    auto wait = std::chrono::duration_cast<Milliseconds>(probe_started_ + interval - Clock::now());
    schedule_probe(std::max(Milliseconds{0}, wait));
  }
  changed_();
}

void ServerSupervisor::probe_failing(unsigned consecutive, unsigned limit) {
  auto detail = last_probe_ ? last_probe_->detail : std::string("no answer");
  auto message = fmt::format("server '{}' failed a health check ({}); down after {} in a row", spec_.name, detail, limit);
  context_.console.info(message);
  context_.log.warning("servers", "server.probe_failed", message,
                       {{"server", spec_.name}, {"consecutive", consecutive}, {"limit", limit}, {"detail", detail}});
  condition("probe", alerts::Severity::warning, message);
}

void ServerSupervisor::probe_recovered(unsigned failures) {
  condition("probe", std::nullopt);
  context_.log.info("servers", "server.probe_recovered",
                    fmt::format("server '{}' answers its health check again after {} failure(s)", spec_.name, failures),
                    {{"server", spec_.name}, {"failures", failures}});
}

void ServerSupervisor::slow_probe(health::ProbeClass probe_class, Milliseconds latency) {
  bool critical = probe_class == health::ProbeClass::slow_critical;
  auto threshold = critical ? spec_.slow.critical : spec_.slow.warning;
  auto message = fmt::format("server '{}' answered its health check in {} (slower than {})", spec_.name,
                             human_duration(latency), human_duration(threshold));
  auto context = alert_context("slow_answer");
  context["latency_ms"] = latency.count();
  context["threshold_ms"] = threshold.count();
  auto severity = critical ? alerts::Severity::critical : alerts::Severity::warning;
  context_.log.warning("servers", "server.slow", message, context);
  context_.alerts.raise(alerts::AlertSpec{alerts::AlertType::server_slow, severity, spec_.name,
                                          fmt::format("server '{}' is slow", spec_.name), message, "health", context});
  if (hooks_.pulse) hooks_.pulse(severity, message);
}

}  // namespace guardian::servers
