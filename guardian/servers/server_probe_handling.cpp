// ServerSupervisor's health probes: when the next probe runs (fast while the server
// starts, then at the monitor's level or the pinned interval), what an answer, a failure
// or a timeout feeds the lifecycle, and the notices a probe leads to (a failed check, a
// recovered one, a slow answer: SERVER_SLOW). A failed probe is followed by the next at
// once, so a hung server is down after unhealthy_after probe timeouts (3 × 1 s by default),
// not after as many probe intervals. While uvicorn --reload replaces its worker (it said
// "Reloading..."), the port accepts and nobody answers: failed and slow probes are the reload,
// not an outage, as long as the new worker lives (a broken reload leaves none: then they
// count) and for at most the first startup timeout. SERVER_DOWN and SERVER_UP are in
// server_notices.cpp: a server also goes down when it exits.
#include <algorithm>
#include <fmt/format.h>

#include "adapters/uvicorn/uvicorn_adapter.hpp"
#include "guardian/process/proc_tree.hpp"
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

// A healthy server is probed at least this often, whatever the level: a hang is then known
// within kHealthyProbeInterval + unhealthy_after × probe_timeout = 2 s + 3 × 1 s = 5 s with
// the defaults (one GET on loopback every 2 s costs the server nothing measurable).
constexpr Milliseconds kHealthyProbeInterval = 2000ms;

// After a failed probe the next one starts at once (a timed-out probe already waited its
// timeout), but no sooner than this after the previous start: a refused connection fails
// in microseconds, and three of those in a millisecond are one glitch, not three checks.
constexpr Milliseconds kFailingProbeInterval = 250ms;

}  // namespace

ServerSupervisor::Milliseconds ServerSupervisor::probe_interval() const {
  return spec_.pinned_probe_interval.value_or(std::min(level_interval_, kHealthyProbeInterval));
}

ServerSupervisor::Milliseconds ServerSupervisor::next_probe_interval() const {
  if (lifecycle_.state() == ServerState::starting) return startup_probe_interval();
  // The first failed probe sharpens the cadence at once, without waiting for the monitor.
  if (lifecycle_.consecutive_probe_failures() > 0) return std::min(kFailingProbeInterval, probe_interval());
  if (reload_started_) return startup_probe_interval();  // notice the new worker's first answer
  return probe_interval();
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
  auto probe_class = health::classify(result, spec_.slow);
  if (!reload_explains(probe_class))
    lifecycle_.on_probe(Clock::now(), probe_class, result.latency, result.detail);
  if (result.ok || lifecycle_.ever_healthy()) {
    ++probes_counted_;
    if (result.ok) ++probes_ok_;
  }
  publish_state(&result);
  auto state = lifecycle_.state();
  if (state == ServerState::starting || state == ServerState::running) {
    auto wait = std::chrono::duration_cast<Milliseconds>(probe_started_ + next_probe_interval() - Clock::now());
    schedule_probe(std::max(Milliseconds{0}, wait));
  }
  changed_();
}

void ServerSupervisor::on_output_line(const std::string& line) {
  if (!adapters::uvicorn::announces_reload(line) || lifecycle_.state() != ServerState::running) return;
  reload_started_ = Clock::now();
  context_.log.info("servers", "server.reloading", fmt::format("server '{}' reloads its app", spec_.name),
                    {{"server", spec_.name}});
}

bool ServerSupervisor::reload_explains(health::ProbeClass& probe_class) {
  if (!reload_started_) return false;
  const auto reloading_for = std::chrono::duration_cast<Milliseconds>(Clock::now() - *reload_started_);
  if (probe_class != health::ProbeClass::failure) {
    reload_started_.reset();
    probe_class = health::ProbeClass::ok;  // slow because it answered the moment the new worker was up
    context_.log.info("servers", "server.reloaded",
                      fmt::format("server '{}' answers again {} after its reload", spec_.name,
                                  human_duration(reloading_for)),
                      {{"server", spec_.name}, {"reload_ms", reloading_for.count()}});
    return false;
  }
  if (reloading_for < spec_.lifecycle.startup_timeouts.front() && has_live_worker()) return true;
  reload_started_.reset();  // the new worker died (a broken reload) or never answered: failures count
  return false;
}

bool ServerSupervisor::has_live_worker() const {
  if (pid_ <= 0) return false;
  const process::ProcFs proc;
  for (pid_t child : proc.children(pid_)) {
    auto stat = proc.stat(child);
    // A dead worker stays a zombie until the reloader's next reload; a stopped one answers nothing.
    if (stat && stat->alive() && stat->state != 'T' && stat->state != 't') return true;
  }
  return false;
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
